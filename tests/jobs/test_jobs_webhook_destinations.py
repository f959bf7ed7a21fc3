"""Webhook destinations: link-local and metadata never, private ranges only when listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.deliverer import Backoff, Deliverer
from jobs.webhook_destinations import DestinationPolicy
from monitor.signals.results import SignalResult
from monitor.spec.settings import load_settings
from monitor.store import AlertPolicy, EndpointSpec, Store
from tests.jobs.http_receiver import Receiver

T0 = datetime(2024, 3, 1, tzinfo=UTC)
SECRET = "whsec_ZGVzdGluYXRpb24tdGVzdA=="


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://169.254.169.254/latest/meta-data", "link-local or cloud metadata"),
        ("http://[fe80::1]/hook", "link-local or cloud metadata"),
        ("http://[fd00:ec2::254]/hook", "link-local or cloud metadata"),
        ("http://10.1.2.3/hook", "private range; list its network in the webhook_allowed_networks"),
        ("http://192.168.0.10:8080/hook", "private range"),
        ("http://0.0.0.0/hook", "not a unicast address"),
        ("http://127.0.0.1:9000/hook", None),
        ("https://93.184.216.34/hook", None),
    ],
)
def test_default_policy(url: str, expected: str | None) -> None:
    problem = DestinationPolicy().problem(url)
    assert (problem is None) if expected is None else (expected in str(problem))


def test_listed_networks_and_loopback_switch() -> None:
    policy = DestinationPolicy.from_settings(["10.0.0.0/8"], allow_loopback=False)
    assert policy.problem("http://10.1.2.3/hook") is None
    assert "loopback" in str(policy.problem("http://127.0.0.1/hook"))
    assert "metadata" in str(policy.problem("http://169.254.169.254/x"))  # listing never opens these


def test_host_names_are_judged_by_what_they_resolve_to() -> None:
    problem = DestinationPolicy().problem("http://internal.example/x?token=abc123456",
                                          resolve=lambda host, port: ["10.0.0.7"])  # fmt: skip
    assert problem and "10.0.0.7" in problem and "abc123456" not in problem


def test_settings_validate_networks() -> None:
    s = load_settings(env={"RAIWATCH_WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/8, 192.168.1.0/24"})
    assert s.webhook_allowed_networks == ["10.0.0.0/8", "192.168.1.0/24"]
    with pytest.raises(ValueError, match="'ten' is not a network; write CIDRs"):
        load_settings(env={"RAIWATCH_WEBHOOK_ALLOWED_NETWORKS": "ten"})


def test_a_denied_destination_is_dead_lettered_at_once_and_others_still_go(store: Store) -> None:
    receiver = Receiver()
    ok_url = receiver.start()
    bad_url = "http://169.254.169.254/latest/meta-data"
    store.upsert_monitor("m1", "credit", "1", {}, start_at=T0, endpoints=[
        EndpointSpec(bad_url, SECRET, timeout_s=1, max_attempts=5),
        EndpointSpec(ok_url, SECRET, timeout_s=1, max_attempts=5)])  # fmt: skip
    store.save_run("m1", "credit", "1", T0, T0 + timedelta(hours=1), "alert",
                   [SignalResult(signal="data_drift", feature="age", metric="w", value=1.0, threshold=0.1, status="alert")], 1, 0.1, {},
                   policy=AlertPolicy())  # fmt: skip
    deliverer = Deliverer(store, backoff=Backoff(base_s=0.01, cap_s=0.01))
    try:
        deliverer.deliver_pending()
    finally:
        deliverer.stop()
        receiver.stop()
    by_url = {d.url: d for d in store.list_deliveries()}
    assert by_url[bad_url].status == "dead" and by_url[bad_url].attempts == 1
    assert "link-local or cloud metadata" in str(by_url[bad_url].last_error)
    assert by_url[ok_url].status == "delivered" and len(receiver.received) == 1


def test_monitor_add_refuses_a_denied_destination(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import os

    from typer.testing import CliRunner

    from jobs.cli import app as cli_app
    from monitor.errors import SchemaError
    from monitor.spec.model_version import ModelVersion

    for key in [k for k in os.environ if k.startswith("RAIWATCH_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'raiwatch.db'}")
    store.migrate()
    store.register_model_version(ModelVersion.model_validate(
        {"name": "credit", "version": "1", "task": "binary", "features": {"age": "numeric"}}))  # fmt: skip
    monitor = tmp_path / "m.yaml"
    monitor.write_text(f"name: m\nmodel: credit\nversion: '1'\nwebhooks:\n"
                       f"  - url: http://10.9.8.7/hook\n    secret: {SECRET}\n")  # fmt: skip
    result = CliRunner().invoke(cli_app, ["monitor", "add", "-f", str(monitor), "--home", str(tmp_path)])
    assert isinstance(result.exception, SchemaError)
    assert "10.9.8.7 is in a private range" in str(result.exception)
    assert store.list_monitors() == []


REBIND_HOST = "hooks.rebind.test"


def _rebinding_resolver(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> list[str]:
    """Make ``REBIND_HOST`` resolve to ``answers[0]``, then ``answers[1]`` on every later lookup.

    Both answers are loopback addresses: nothing here can reach another machine.
    """
    import socket

    real = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host != REBIND_HOST:
            return real(host, port, *args, **kwargs)
        ip = answers[min(len(lookups), len(answers) - 1)]
        assert ip.startswith("127."), "the stub only ever answers loopback addresses"
        lookups.append(ip)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, int(port or 80)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def _enqueue_one(store: Store, url: str) -> None:
    store.upsert_monitor("m1", "credit", "1", {}, start_at=T0,
                         endpoints=[EndpointSpec(url, SECRET, timeout_s=2, max_attempts=3)])  # fmt: skip
    store.save_run("m1", "credit", "1", T0, T0 + timedelta(hours=1), "alert",
                   [SignalResult(signal="data_drift", feature="age", metric="w", value=1.0, threshold=0.1, status="alert")], 1, 0.1, {},
                   policy=AlertPolicy())  # fmt: skip


def test_a_name_that_rebinds_after_the_check_cannot_reach_the_denied_address(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First lookup: the allowed 127.0.0.1; every later one: 127.0.0.2, which the policy denies.

    The delivery must go to the address that was checked, with the original Host header.
    """
    import httpx

    policy = DestinationPolicy.from_settings(["127.0.0.1/32"], allow_loopback=False)
    allowed = Receiver()
    allowed.start()
    port = allowed._server.server_address[1]
    denied = Receiver(host="127.0.0.2", port=port)  # the "internal service" behind the same port
    denied.start()
    assert policy.problem(f"http://127.0.0.2:{port}/hook") is not None
    url = f"http://{REBIND_HOST}:{port}/hook"
    try:
        # the attack is real: checking, then letting the client resolve again, reaches 127.0.0.2
        lookups = _rebinding_resolver(monkeypatch, ["127.0.0.1", "127.0.0.2"])
        assert policy.problem(url) is None
        httpx.post(url, content=b"{}", timeout=2)
        assert lookups == ["127.0.0.1", "127.0.0.2"] and len(denied.received) == 1
        denied.received.clear()

        lookups = _rebinding_resolver(monkeypatch, ["127.0.0.1", "127.0.0.2"])
        _enqueue_one(store, url)
        deliverer = Deliverer(store, backoff=Backoff(base_s=0.01, cap_s=0.01), destinations=policy)
        try:
            deliverer.deliver_pending()
        finally:
            deliverer.stop()
    finally:
        allowed.stop()
        denied.stop()
    assert lookups == ["127.0.0.1"]  # resolved once per attempt, the connection asked no DNS
    assert denied.received == []
    assert len(allowed.received) == 1
    headers = {k.lower(): v for k, v in allowed.received[0].headers.items()}
    assert headers["host"] == f"{REBIND_HOST}:{port}"
    assert store.list_deliveries()[0].status == "delivered"


def test_a_name_that_resolves_to_a_denied_address_is_never_contacted(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = DestinationPolicy.from_settings(["127.0.0.1/32"], allow_loopback=False)
    denied = Receiver(host="127.0.0.2")
    denied.start()
    port = denied._server.server_address[1]
    lookups = _rebinding_resolver(monkeypatch, ["127.0.0.2", "127.0.0.1"])
    _enqueue_one(store, f"http://{REBIND_HOST}:{port}/hook?token=s3cr3t-token")
    deliverer = Deliverer(store, backoff=Backoff(base_s=0.01, cap_s=0.01), destinations=policy)
    try:
        deliverer.deliver_pending()
    finally:
        deliverer.stop()
        denied.stop()
    assert lookups == ["127.0.0.2"] and denied.received == []
    delivery = store.list_deliveries()[0]
    assert delivery.status == "dead" and delivery.attempts == 1
    assert "127.0.0.2 is loopback" in str(delivery.last_error) and "s3cr3t-token" not in str(delivery.last_error)


def test_pinning_keeps_the_name_for_tls_and_brackets_ipv6() -> None:
    policy = DestinationPolicy()
    pinned = policy.pin("https://hooks.example:8443/x?y=1", resolve=lambda h, p: ["::1", "127.0.0.1"])
    assert (pinned.url, pinned.host_header, pinned.sni_hostname) == (
        "https://[::1]:8443/x?y=1", "hooks.example:8443", "hooks.example")
    literal = policy.pin("http://127.0.0.1/hook")
    assert (literal.url, literal.host_header, literal.sni_hostname) == ("http://127.0.0.1/hook", "127.0.0.1", None)
    from jobs.webhook_destinations import DestinationDenied

    with pytest.raises(DestinationDenied, match="private range"):
        policy.pin("http://a.example/x", resolve=lambda h, p: ["127.0.0.1", "10.0.0.1"])


def _self_signed(tmp_path, name: str):  # type: ignore[no-untyped-def]
    """A certificate for ``name`` only (not for 127.0.0.1), and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))  # fmt: skip
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_file, key_file


def test_a_pinned_https_delivery_checks_the_certificate_against_the_name(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Connected to the checked IP, TLS still sends the name (SNI) and verifies the certificate for it."""
    import ssl

    import httpx

    cert_file, key_file = _self_signed(tmp_path, REBIND_HOST)
    receiver = Receiver()
    receiver.start()
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_file, key_file)
    sni_seen: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: sni_seen.append(name)  # type: ignore[assignment,return-value]
    receiver._server.socket = server_ctx.wrap_socket(receiver._server.socket, server_side=True)
    port = receiver._server.server_address[1]
    lookups = _rebinding_resolver(monkeypatch, ["127.0.0.1"])
    _enqueue_one(store, f"https://{REBIND_HOST}:{port}/hook")
    deliverer = Deliverer(store, backoff=Backoff(base_s=0.01, cap_s=0.01))
    trusted = ssl.create_default_context(cafile=str(cert_file))
    deliverer._client.close()
    deliverer._client = httpx.Client(follow_redirects=False, verify=trusted)
    try:
        deliverer.deliver_pending()
        # the same certificate does not hold for the bare address: the name is what was verified
        with pytest.raises(httpx.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|IP address mismatch"):
            httpx.post(f"https://127.0.0.1:{port}/hook", content=b"{}", verify=trusted, timeout=2)
    finally:
        deliverer.stop()
        receiver.stop()
    assert store.list_deliveries()[0].status == "delivered", store.list_deliveries()[0].last_error
    assert len(receiver.received) == 1 and lookups == ["127.0.0.1"]
    assert sni_seen[0] == REBIND_HOST
    headers = {k.lower(): v for k, v in receiver.received[0].headers.items()}
    assert headers["host"] == f"{REBIND_HOST}:{port}"

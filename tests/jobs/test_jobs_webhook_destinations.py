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

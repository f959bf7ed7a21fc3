"""Webhook delivery against a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from jobs.deliverer import Backoff, Deliverer
from jobs.webhook_signature import verify_webhook
from monitor.signals.results import SignalResult
from monitor.store import AlertPolicy, EndpointSpec, Store
from tests.jobs.http_receiver import Receiver

T0 = datetime(2024, 3, 1, tzinfo=UTC)
SECRET = "whsec_dGVzdC1zZWNyZXQtMTIz"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(hang_s=1.0)
    r.url = r.start()  # type: ignore[attr-defined]
    yield r
    r.stop()


def _enqueue(store: Store, url: str, *, max_attempts: int = 4, timeout_s: float = 0.3) -> None:
    store.upsert_monitor(
        "m1", "credit", "1", {}, start_at=T0,
        endpoints=[EndpointSpec(url, SECRET, events=("monitor.alert.firing",),
                                timeout_s=timeout_s, max_attempts=max_attempts)],
    )  # fmt: skip
    store.save_run("m1", "credit", "1", T0, T0 + timedelta(hours=1), "alert",
                   [SignalResult(signal="data_drift", feature="age", metric="w", value=1.0, threshold=0.1, status="alert")], 1, 0.1, {},
                   policy=AlertPolicy())  # fmt: skip


def _drain(deliverer: Deliverer, store: Store, deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        deliverer.deliver_pending()
        statuses = {d.status for d in store.list_deliveries()}
        if statuses <= {"delivered", "dead"}:
            return
        time.sleep(0.02)
    raise AssertionError(f"deliveries still pending: {store.list_deliveries()}")


def _deliverer(store: Store) -> Deliverer:
    return Deliverer(store, backoff=Backoff(base_s=0.02, cap_s=0.1), lease=timedelta(seconds=5))


@pytest.mark.parametrize("failure", ["500", "hang", "close"])
def test_failures_are_retried_with_the_same_signed_id(
    store: Store, receiver: Receiver, failure: str
) -> None:
    receiver.script = [failure, failure]
    _enqueue(store, receiver.url)  # type: ignore[attr-defined]
    deliverer = _deliverer(store)
    try:
        _drain(deliverer, store)
    finally:
        deliverer.stop()
    (delivery,) = store.list_deliveries()
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert [r.outcome for r in receiver.received] == [failure, failure, "ok"]
    assert len(set(receiver.ids())) == 1 and receiver.ids()[0] == delivery.message_id
    for r in receiver.received:
        assert verify_webhook(SECRET, r.headers, r.body) == delivery.message_id
        assert json.loads(r.body)["type"] == "monitor.alert.firing"
    attempts = store.list_attempts(delivery.id)
    assert [a[0] for a in attempts] == [1, 2, 3] and attempts[2] == (3, 204, None)
    expected_error = {"500": "HTTP 500", "hang": "timeout after 0.3s"}.get(failure)
    if expected_error:
        assert attempts[0][2] == expected_error
    else:
        assert attempts[0][2] and attempts[0][1] is None


def test_dead_letter_then_redeliver(store: Store, receiver: Receiver) -> None:
    receiver.script = ["500", "500"]
    _enqueue(store, receiver.url, max_attempts=2)  # type: ignore[attr-defined]
    deliverer = _deliverer(store)
    try:
        _drain(deliverer, store)
        (dead,) = store.list_deliveries()
        assert dead.status == "dead" and dead.last_error == "HTTP 500"
        assert len(receiver.received) == 2
        assert store.redeliver([dead.id]) == 1
        _drain(deliverer, store)
    finally:
        deliverer.stop()
    (done,) = store.list_deliveries()
    assert done.status == "delivered"
    assert receiver.ids() == [dead.message_id] * 3


def test_unreachable_endpoint_records_connection_errors(store: Store) -> None:
    _enqueue(store, "http://127.0.0.1:9/closed", max_attempts=2)
    deliverer = _deliverer(store)
    try:
        _drain(deliverer, store)
    finally:
        deliverer.stop()
    (dead,) = store.list_deliveries()
    assert dead.status == "dead" and "ConnectError" in (dead.last_error or "")


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    backoff = Backoff(base_s=1.0, cap_s=10.0, jitter=0.5)
    import random

    rng = random.Random(3)
    delays = [backoff.delay(n, rng) for n in range(1, 7)]
    for n, d in enumerate(delays, start=1):
        raw = min(10.0, 2 ** (n - 1))
        assert 0.5 * raw <= d < 1.5 * raw
    assert Backoff(base_s=1, cap_s=10, jitter=0).delay(10) == 10.0

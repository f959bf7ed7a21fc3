"""One hanging webhook endpoint never delays another endpoint's deliveries.

Two real loopback receivers: one hangs on every request (longer than its
endpoint's attempt timeout), one answers at once. Alerts queue one delivery per
endpoint; more alerts are queued while the deliverer is already stuck on the
hanging endpoint. Every delivery to the healthy endpoint must arrive while the
hanging endpoint is still in its *first* attempt: the healthy one is not delayed
even by one attempt timeout, let alone by the hanging backlog.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from jobs.deliverer import Backoff, Deliverer
from monitor.signals.results import SignalResult
from monitor.store import AlertPolicy, EndpointSpec, Store
from tests.jobs.http_receiver import Receiver

T0 = datetime(2024, 3, 1, tzinfo=UTC)
ALERTS = 6
HANG_TIMEOUT_S = 4.0


def _endpoints(store: Store, hanging: str, healthy: str) -> None:
    events = ("monitor.alert.firing", "monitor.alert.resolved")
    store.upsert_monitor(
        "m1", "credit", "1", {}, start_at=T0,
        endpoints=[EndpointSpec(hanging, "whsec_aGFuZ2luZy1lbmRwb2ludA==", events=events,
                                timeout_s=HANG_TIMEOUT_S, max_attempts=2),
                   EndpointSpec(healthy, "whsec_aGVhbHRoeS1lbmRwb2ludA==", events=events,
                                timeout_s=HANG_TIMEOUT_S, max_attempts=2)],
    )  # fmt: skip


def _alerts(store: Store, first: int, count: int) -> None:
    for i in range(first, first + count):  # alternate firing / resolved: one delivery per endpoint
        status = "alert" if i % 2 == 0 else "ok"
        start = T0 + timedelta(hours=i)
        store.save_run("m1", "credit", "1", start, start + timedelta(hours=1), status,
                       [SignalResult(signal="data_drift", feature="age", metric="w", value=1.0, threshold=0.1, status=status)], 1, 0.1, {},
                       policy=AlertPolicy())  # fmt: skip


def test_a_hanging_endpoint_does_not_delay_a_healthy_one(store: Store) -> None:
    stuck = Receiver(script=["hang"] * 50, hang_s=30.0)
    fine = Receiver()
    hanging_url, healthy_url = stuck.start(), fine.start()
    _endpoints(store, hanging_url, healthy_url)
    _alerts(store, 0, ALERTS // 2)
    deliverer = Deliverer(store, backoff=Backoff(base_s=60, cap_s=60), poll_interval_s=0.05,
                          lease=timedelta(seconds=30))  # fmt: skip
    began = time.monotonic()
    deliverer.start()
    try:
        while len(stuck.received) < 1 and time.monotonic() - began < 10:
            time.sleep(0.02)
        _alerts(store, ALERTS // 2, ALERTS - ALERTS // 2)  # queued while one send hangs
        assert len([d for d in store.list_deliveries(limit=100) if d.url == healthy_url]) == ALERTS
        while len(fine.received) < ALERTS and time.monotonic() - began < 20:
            time.sleep(0.02)
        healthy_done_after = time.monotonic() - began
        stuck_requests = len(stuck.received)
    finally:
        deliverer.stop()  # waits for the hanging attempt to time out
        stuck.stop()
        fine.stop()
    assert len(fine.received) == ALERTS
    # while the healthy endpoint got all six, the hanging one was still in its first attempt
    assert stuck_requests == 1
    assert healthy_done_after < HANG_TIMEOUT_S, healthy_done_after
    assert {d.status for d in store.list_deliveries(limit=100) if d.url == healthy_url} == {"delivered"}

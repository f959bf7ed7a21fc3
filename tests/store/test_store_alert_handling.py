"""Acknowledging and silencing alerts: stored, bound to the firing episode, expiring,
and a silence keeps the firing webhooks out of the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import NotFoundError, SchemaError
from monitor.signals.results import SignalResult
from monitor.store import AlertPolicy, EndpointSpec, Store

T0 = datetime(2024, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _setup(store: Store) -> None:
    store.upsert_monitor(
        "m1", "credit", "1", {}, start_at=T0,
        endpoints=[EndpointSpec("http://127.0.0.1:9/a", "whsec_c2VjcmV0")],
    )  # fmt: skip


def _run(store: Store, hour: int, status: str) -> int:
    results = [SignalResult(signal="data_drift", feature="age", metric="wasserstein", value=0.5, threshold=0.1, status=status)]  # type: ignore[arg-type]
    start = T0 + hour * HOUR
    return store.save_run("m1", "credit", "1", start, start + HOUR, status, results, 10, 0.1, {},
                          policy=AlertPolicy())  # fmt: skip


def test_acknowledgement_holds_for_its_firing_episode_only(store: Store) -> None:
    _setup(store)
    _run(store, 0, "alert")
    record = store.acknowledge_alert("m1", "data_drift", by="ana", note="looking at income")
    assert record.acknowledged and record.acknowledged_by == "ana"
    [stored] = store.list_alert_handling()
    assert stored.acknowledged and stored.note == "looking at income"
    _run(store, 1, "ok")  # resolved: the episode is over
    assert not store.list_alert_handling()[0].acknowledged
    _run(store, 2, "alert")  # fires again: a new, unacknowledged episode
    assert not store.list_alert_handling()[0].acknowledged


def test_only_a_firing_alert_can_be_acknowledged(store: Store) -> None:
    _setup(store)
    _run(store, 0, "ok")
    with pytest.raises(SchemaError, match="is ok, not firing"):
        store.acknowledge_alert("m1", "data_drift", by="ana")
    with pytest.raises(NotFoundError, match="signals with an alert state in 'm1': data_drift"):
        store.acknowledge_alert("m1", "no_such_signal", by="ana")
    with pytest.raises(SchemaError, match="'by' must name who"):
        store.acknowledge_alert("m1", "data_drift", by="  ")


def test_silence_needs_a_future_bounded_expiry(store: Store) -> None:
    _setup(store)
    _run(store, 0, "alert")
    now = datetime.now(UTC)
    with pytest.raises(SchemaError, match="must end in the future"):
        store.silence_alert("m1", "data_drift", until=now - HOUR, by="ana")
    with pytest.raises(SchemaError, match="at most 90 days"):
        store.silence_alert("m1", "data_drift", until=now + timedelta(days=91), by="ana")
    record = store.silence_alert("m1", "data_drift", until=now + HOUR, by="ana", reason="deploy")
    assert record.silenced and record.silence_reason == "deploy"
    store.unsilence_alert("m1", "data_drift")
    assert not store.list_alert_handling()[0].silenced


def test_a_silenced_signal_records_its_events_but_enqueues_no_webhook(store: Store) -> None:
    _setup(store)
    _run(store, 0, "alert")
    assert len(store.list_deliveries()) == 1
    store.silence_alert("m1", "data_drift", until=datetime.now(UTC) + HOUR, by="ana")
    _run(store, 1, "ok")  # resolved: resolved events are not silenced
    _run(store, 2, "alert")  # fires again while silenced
    events = [(e.event, e.window_end) for e in store.list_alert_events("m1")]
    assert ("firing", T0 + 3 * HOUR) in events
    types = sorted(d.event_type for d in store.list_deliveries())
    assert types == ["monitor.alert.firing", "monitor.alert.resolved"]
    store.unsilence_alert("m1", "data_drift")
    _run(store, 3, "ok")
    _run(store, 4, "alert")
    assert sorted(d.event_type for d in store.list_deliveries()).count("monitor.alert.firing") == 2

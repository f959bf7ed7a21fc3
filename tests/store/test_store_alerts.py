"""Alert transitions and the transactional outbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from monitor.signals.results import SignalResult
from monitor.store import AlertPolicy, EndpointSpec, Store

T0 = datetime(2024, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
POLICY = AlertPolicy(
    cooldown=timedelta(hours=4),
    retrain_signals=frozenset({"data_drift"}),
    dashboard_url="http://dash:8501",
)


def _setup(store: Store) -> None:
    store.upsert_monitor(
        "m1", "credit", "1", {"schedule": "0 * * * *"}, start_at=T0,
        endpoints=[EndpointSpec("http://127.0.0.1:9/a", "whsec_c2VjcmV0"),
                   EndpointSpec("http://127.0.0.1:9/b", "s3cret", events=("model.retrain.requested",))],
    )  # fmt: skip


def _run(store: Store, hour: int, status: str) -> int:
    value = 0.5 if status == "alert" else 0.01
    results = [
        SignalResult(
            signal="data_drift",
            feature="age",
            metric="wasserstein",
            value=value,
            threshold=0.1,
            status=status,
        ),  # type: ignore[arg-type]
        SignalResult(
            signal="data_quality",
            feature="age",
            metric="null_rate",
            value=0.0,
            threshold=0.1,
            status="ok",
        ),
    ]
    start = T0 + hour * HOUR
    return store.save_run("m1", "credit", "1", start, start + HOUR, status, results, 10, 0.1, {},
                          policy=POLICY)  # fmt: skip


def _events(store: Store) -> list[tuple[str, str, int]]:
    return [
        (e.signal, e.event, int((e.window_start - T0) / HOUR))
        for e in reversed(store.list_alert_events("m1"))
    ]


def test_firing_resolved_cooldown_and_no_duplicates(store: Store) -> None:
    _setup(store)
    _run(store, 0, "ok")
    fired_run = _run(store, 1, "alert")
    _run(store, 1, "alert")  # re-run of the same window: nothing new
    _run(store, 2, "alert")  # still firing: no new event
    _run(store, 3, "ok")  # resolved
    _run(store, 4, "alert")  # 3 h after the firing at the end of hour 1 (< 4 h): suppressed
    _run(store, 4, "alert")
    _run(store, 5, "no_data")  # no evidence: state unchanged
    _run(store, 6, "alert")  # cooldown over: fires again
    assert _events(store) == [
        ("data_drift", "firing", 1),
        ("data_drift", "resolved", 3),
        ("data_drift", "firing", 6),
    ]
    states = {s.signal: s.state for s in store.list_alert_states("m1")}
    assert states == {"data_drift": "firing", "data_quality": "ok"}
    deliveries = store.list_deliveries(monitor="m1")
    kinds = sorted((d.url[-1], d.event_type) for d in deliveries)
    assert kinds == sorted(
        [("a", "monitor.alert.firing"), ("a", "model.retrain.requested"),
         ("b", "model.retrain.requested"), ("a", "monitor.alert.resolved"),
         ("a", "monitor.alert.firing"), ("a", "model.retrain.requested"),
         ("b", "model.retrain.requested")]
    )  # fmt: skip
    assert len({d.message_id for d in deliveries}) == len(deliveries)
    first = next(j for j in store.claim_deliveries(limit=20) if j.url.endswith("/a")
                 and j.event_type == "monitor.alert.firing" and f'"run_id":{fired_run}' in j.body)  # fmt: skip
    payload = json.loads(first.body)
    data = payload["data"]
    assert payload["type"] == "monitor.alert.firing"
    assert data["model"] == "credit" and data["version"] == "1" and data["monitor"] == "m1"
    assert data["window"] == {"start": (T0 + HOUR).isoformat(), "end": (T0 + 2 * HOUR).isoformat()}
    assert data["signals"] == [
        {"signal": "data_drift", "status": "alert", "state": "firing", "previous_state": "ok",
         "results": [{"feature": "age", "metric": "wasserstein", "value": 0.5, "threshold": 0.1,
                      "status": "alert", "p_value": None}]}
    ]  # fmt: skip
    assert (
        data["dashboard_url"]
        == f"http://dash:8501/?model=credit&version=1&monitor=m1&run={fired_run}"
    )
    assert "s3cret" not in repr(first) and "c2VjcmV0" not in repr(first)


def test_old_windows_do_not_move_alert_state(store: Store) -> None:
    _setup(store)
    _run(store, 5, "ok")
    _run(store, 2, "alert")  # a backfill of an older window
    assert _events(store) == []
    assert store.list_deliveries() == []
    assert store.get_monitor("m1").last_completed_end == T0 + 6 * HOUR


def test_without_policy_nothing_is_enqueued(store: Store) -> None:
    _setup(store)
    store.save_run("m1", "credit", "1", T0, T0 + HOUR, "alert",
                   [SignalResult(signal="data_drift", feature="age", metric="w", value=1.0, threshold=0.1, status="alert")], 1, 0.1, {})  # fmt: skip
    assert store.list_deliveries() == [] and store.list_alert_states() == []

"""Segment results are stored with their segment (SQLite and PostgreSQL) and alerts name it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from monitor.signals.results import SignalResult
from monitor.store import AlertPolicy, EndpointSpec, Store

T0 = datetime(2024, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _results(segment_status: str) -> list[SignalResult]:
    return [
        SignalResult(signal="data_drift", feature="x0", metric="wasserstein", value=0.02, threshold=0.05,
                     status="ok", alpha=0.001, correction="holm"),
        SignalResult(signal="data_drift", feature="x0", metric="wasserstein", value=0.4, threshold=0.05,
                     status=segment_status, alpha=0.0001, correction="holm + bonferroni over 10 segments",
                     segment="region=EU"),  # type: ignore[arg-type]
        SignalResult(signal="data_drift", feature="x0", metric="rows", value=None, status="no_data",
                     message="segment region=US has 12 rows in this window; at least 200 are needed",
                     details={"rows_needed": 200}, segment="region=US"),
    ]  # fmt: skip


def test_segment_results_round_trip(store: Store) -> None:
    results = _results("alert")
    run_id = store.save_run("m1", "credit", "1", T0, T0 + HOUR, "alert", results, 1000, 0.1, {})
    stored = store.get_run(run_id).results
    assert [r.segment for r in stored] == [None, "region=EU", "region=US"]
    assert [r.to_dict() for r in stored] == [r.to_dict() for r in results]


def test_a_segment_alert_pages_and_names_the_segment(store: Store) -> None:
    store.upsert_monitor(
        "m1", "credit", "1", {"schedule": "0 * * * *"}, start_at=T0,
        endpoints=[EndpointSpec("http://127.0.0.1:9/a", "whsec_c2VjcmV0")],
    )  # fmt: skip
    policy = AlertPolicy(cooldown=timedelta(hours=1))
    store.save_run("m1", "credit", "1", T0, T0 + HOUR, "ok", _results("ok"), 1000, 0.1, {}, policy=policy)
    run = store.save_run("m1", "credit", "1", T0 + HOUR, T0 + 2 * HOUR, "alert", _results("alert"), 1000, 0.1, {},
                         policy=policy)  # fmt: skip
    firing = [d for d in store.claim_deliveries(limit=10) if d.event_type == "monitor.alert.firing"]
    assert len(firing) == 1 and f'"run_id":{run}' in firing[0].body
    (entry,) = json.loads(firing[0].body)["data"]["signals"]
    assert entry["signal"] == "data_drift" and entry["segments"] == ["region=EU"]
    assert entry["results"] == [{"segment": "region=EU", "feature": "x0", "metric": "wasserstein", "value": 0.4,
                                 "threshold": 0.05, "status": "alert", "p_value": None}]  # fmt: skip


def test_metrics_give_segment_results_their_own_series(store: Store) -> None:
    from jobs.metrics import IngestCounters, render_metrics

    store.save_run("m1", "credit", "1", T0, T0 + HOUR, "alert", _results("alert"), 1000, 0.1, {})
    lines = render_metrics(store, IngestCounters()).splitlines()
    whole = [ln for ln in lines if ln.startswith("raiwatch_signal_value{")]
    assert whole == ['raiwatch_signal_value{monitor="m1",model="credit",version="1",signal="data_drift",'
                     'feature="x0",metric="wasserstein"} 0.02']  # fmt: skip
    assert ('raiwatch_segment_signal_status_code{monitor="m1",model="credit",version="1",segment="region=EU",'
            'signal="data_drift",feature="x0",metric="wasserstein"} 2') in lines  # fmt: skip
    series = [ln.rsplit(" ", 1)[0] for ln in lines if not ln.startswith("#")]
    assert len(series) == len(set(series))  # no duplicated series

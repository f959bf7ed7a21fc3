"""The lifecycle page's queries on both store backends (SQLite and PostgreSQL), on runs
stored through the real store with a retraining clock, challenger verdicts and a promotion."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboards import lifecycle_queries as lq
from dashboards.sources import read_engine
from monitor.signals.results import SignalResult
from monitor.spec.monitor import parse_monitor_spec
from monitor.store import AlertPolicy, Store

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _verdict(day: int, verdict: str, previous: str) -> SignalResult:
    diff = 0.01 * day
    return SignalResult(
        signal="challenger", metric="accuracy_difference", value=diff, status="warning" if verdict == "better" else "ok",
        p_value=0.5, alpha=0.0005, message=f"{verdict}: {diff:+.4f}",
        details={"verdict": verdict, "previous_verdict": previous, "interval": [diff - 0.02, diff + 0.02],
                 "n_pairs": 500 * (day + 1), "window": {"pairs": 500, "agreement_all": 0.9, "mcnemar_p": 0.2,
                 "champion_accuracy": 0.8, "challenger_accuracy": 0.8 + diff}, "e_better": 10.0 ** day},
    )  # fmt: skip


def test_lifecycle_queries_read_clock_verdicts_side_by_side_and_promotions(store: Store, db_url: str) -> None:
    spec = parse_monitor_spec({"name": "m", "model": "credit", "version": "1", "window": "1d",
                               "retrain_every": "2d", "challenger": {"version": "2"}})  # fmt: skip
    store.upsert_monitor("m", "credit", "1", spec.stored_dict(), start_at=START)
    engine = read_engine(db_url)
    try:
        before = lq.retrain_schedules(engine)  # no run yet: computed from start_at
        assert pd.Timestamp(before["next_due"].iloc[0]) == START + 2 * DAY and before["requests"].iloc[0] == 0
        policy = AlertPolicy(retrain_every=2 * DAY)
        verdicts = ["undecided", "undecided", "better"]
        for day, verdict in enumerate(verdicts):
            drift = SignalResult(signal="data_drift", feature="income", metric="w", value=0.3, status="alert")
            perf = SignalResult(signal="performance", metric="accuracy", value=0.8, status="ok")
            side = {"version": "2", "status": "ok", "row_count": 500,
                    "results": [perf.replace(value=0.8 + 0.01 * day).to_dict(), drift.replace(status="ok").to_dict()]}  # fmt: skip
            store.save_run("m", "credit", "1", START + day * DAY, START + (day + 1) * DAY, "alert",
                           [drift, perf, _verdict(day, verdict, verdicts[day - 1] if day else "undecided")],
                           500, 0.1, {"challenger": side}, policy=policy)  # fmt: skip
        clock = lq.retrain_schedules(engine).iloc[0]
        assert pd.Timestamp(clock["next_due"]) == START + 4 * DAY and clock["requests"] == 1
        assert clock["last_reason"] == "schedule"
        assert lq.challenger_monitors(engine).values.tolist() == [["m", "credit", "1", "2", "shadow"]]
        history = lq.comparison(engine, "m")
        assert history["verdict"].tolist() == verdicts and history["difference"].tolist() == [0.0, 0.01, 0.02]
        assert history["low"].iloc[-1] == 0.0 and history["agreement"].iloc[-1] == 0.9
        both = lq.side_by_side(engine, int(history["run_id"].iloc[-1])).set_index("role")
        assert both.loc["champion", "drifted_features"] == "income" and both.loc["challenger", "drifted_features"] == "—"
        assert abs(both.loc["challenger", "accuracy"] - 0.82) < 1e-12 and both.loc["champion", "version"] == "1"
        assert lq.promotions(engine).empty
        store.promote_monitor("m", {**spec.stored_dict(), "version": "2", "challenger": None},
                              from_version="1", to_version="2", evidence={"verdict": "better"})  # fmt: skip
        promoted = lq.promotions(engine)
        assert promoted[["monitor", "from_version", "to_version", "verdict"]].values.tolist() == [["m", "1", "2", "better"]]
        assert lq.challenger_monitors(engine)["challenger"].isna().all()  # judged before, none now
    finally:
        engine.dispose()

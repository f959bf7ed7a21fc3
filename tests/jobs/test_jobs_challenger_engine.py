"""Champion / challenger end to end: the real log store, ``EngineEvaluator``, runner and store.

credit:1 (trained on the original relation) serves traffic whose labels follow the
concept-shifted relation; credit:2, retrained on shifted labels, answers the same requests
in shadow (its logs carry the same request ids). Daily runs must store both versions'
results, reach ``better`` once, enqueue one ``model.challenger.better`` and keep it from
repeating; ``promote`` then makes credit:2 the champion with history kept.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from jobs.demo_data import FEATURES, applicants, labels_for, train_model
from jobs.evaluation import EngineEvaluator, detector_checkpoint
from jobs.lifecycle import promote
from jobs.runner import MonitorRunner
from jobs.windows import Window
from monitor.baseline.reference import create_baseline
from monitor.errors import ConflictError, SchemaError
from monitor.ingest.logstore import LogStore
from monitor.spec.monitor import MonitorSpec, parse_monitor_spec
from monitor.spec.settings import Settings
from monitor.store import EndpointSpec, Store
from tests.monitor.test_model_signals_world import credit_model, credit_version

START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
DAYS = 4
ROWS = 600


def _score(model: Any, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    with threadpool_limits(1):
        score = model.predict_proba(x[list(FEATURES)])[:, 1]
    return score, (score >= 0.5).astype(int)


class World:
    def __init__(self, home: Path, db_url: str) -> None:
        rng = np.random.default_rng(5)
        self.home = home
        self.store = Store(db_url)
        self.store.migrate()
        self.v1, self.v2 = credit_version(), credit_version(version="2")
        train = applicants(3000, rng)
        with threadpool_limits(1):
            retrained = train_model(train, labels_for(train, rng, concept_shift=True), 1)
        self.models = {"1": credit_model(), "2": retrained}
        for mv in (self.v1, self.v2):
            self.store.register_model_version(mv)
            ref = applicants(2000, rng)
            ref["default"] = labels_for(ref, rng, concept_shift=mv.version == "2")
            ref["score"], ref["prediction"] = _score(self.models[mv.version], ref)
            ref["request_id"] = [f"ref{mv.version}-{i}" for i in range(len(ref))]
            b = create_baseline(mv, ref, seed=0, threads=1)
            self.store.save_baseline(mv.name, mv.version, b.to_document(), b.sample_bytes())
        self.logs = LogStore(home)
        self.log_days(range(DAYS), rng)

    def log_days(self, days: range, rng: np.random.Generator, *, versions: tuple[str, ...] = ("1", "2")) -> None:
        for d in days:
            x = applicants(ROWS, rng)
            truth = labels_for(x, rng, concept_shift=True)
            ids = [f"d{d}-{i}" for i in range(ROWS)]
            stamps = START + dt.timedelta(days=d) + pd.to_timedelta(np.sort(rng.uniform(0, 86_000, ROWS)), unit="s")
            for mv in (self.v1, self.v2):
                if mv.version not in versions:
                    continue
                frame = x.assign(request_id=ids, timestamp=stamps)
                frame["score"], frame["prediction"] = _score(self.models[mv.version], x)
                assert self.logs.ingest_frame(mv, frame).accepted == ROWS
            # labels arrive once, under the champion's version: they are keyed by request id
            labels = pd.DataFrame({"request_id": ids, "label": truth})
            assert self.logs.ingest_labels_frame(self.v1, labels).accepted == ROWS


def _spec(**extra: Any) -> MonitorSpec:
    return parse_monitor_spec({
        "name": "credit-daily", "model": "credit", "version": "1", "schedule": "0 0 * * *", "window": "1d",
        "challenger": {"version": "2", "mode": "shadow"},
        "signals": {"multivariate_drift": {"enabled": False}, "attribution_drift": {"enabled": False}},
        **extra,
    })  # fmt: skip


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> World:
    return World(tmp_path, db_url)


def test_shadow_challenger_is_judged_better_once_and_promoted(world: World) -> None:
    store = world.store
    spec = _spec()
    store.upsert_monitor(spec.name, "credit", "1", spec.stored_dict(), start_at=START + dt.timedelta(days=1),
                         endpoints=[EndpointSpec("http://127.0.0.1:9/hook", "whsec_dGVzdA==")])  # fmt: skip
    runner = MonitorRunner(store, EngineEvaluator(store, Settings(home=world.home, threads=1)),
                           clock=lambda: START + dt.timedelta(days=DAYS, minutes=1))  # fmt: skip
    run_ids = runner.catch_up("credit-daily")
    assert len(run_ids) == DAYS
    verdicts = []
    for run_id in run_ids:
        run = store.get_run(run_id)
        assert run.model_version == "1"
        (result,) = [r for r in run.results if r.signal == "challenger"]
        verdicts.append(result.details["verdict"])
        window = result.details["window"]
        assert window["pairs"] == ROWS and window["paired_requests"] == ROWS
        assert window["agreement_all"] == pytest.approx(window["agreement_labelled"])
        side = run.details["challenger"]
        assert side["version"] == "2" and side["row_count"] == ROWS and side["labelled_rows"] == ROWS
        accuracy = {r["signal"]: r for r in side["results"] if r["metric"] == "accuracy"}
        assert accuracy["performance"]["value"] == pytest.approx(window["challenger_accuracy"])
        own = next(r for r in run.results if r.signal == "performance" and r.metric == "accuracy")
        assert own.value == pytest.approx(window["champion_accuracy"])
        assert any(r["signal"] == "data_drift" for r in side["results"])
    assert verdicts[-1] == "better" and verdicts.count("better") >= 1
    better = [d for d in store.claim_deliveries(limit=100) if d.event_type == "model.challenger.better"]
    assert len(better) == 1  # once per verdict change, not every window
    payload = json.loads(better[0].body)["data"]
    assert payload["verdict"] == "better" and payload["challenger_version"] == "2"
    assert payload["evidence"]["difference"] > 0.03 and payload["evidence"]["n_pairs"] >= ROWS

    # A re-run of the windows gives the same verdicts and enqueues nothing new.
    again = runner.backfill("credit-daily", START + dt.timedelta(days=1), START + dt.timedelta(days=DAYS), notify=True)
    assert again == run_ids
    assert [next(r for r in store.get_run(i).results if r.signal == "challenger").details["verdict"]
            for i in run_ids] == verdicts  # fmt: skip

    last_end = START + dt.timedelta(days=DAYS)
    assert store.load_detector_state("credit-daily", detector_checkpoint(last_end)) is not None
    done = promote(store, "credit-daily")
    assert (done.from_version, done.to_version) == ("1", "2") and done.evidence["verdict"] == "better"
    record = store.get_monitor("credit-daily")
    promoted = MonitorSpec.from_stored(record.spec)
    assert record.model_version == "2" and promoted.version == "2" and promoted.challenger is None
    assert [p.to_version for p in store.list_promotions("credit-daily")] == ["2"]
    assert store.get_run(run_ids[0]).model_version == "1"  # history kept and readable
    # credit:1's change detectors do not carry over to credit:2 (they were calibrated on its errors)
    assert store.load_detector_state("credit-daily", detector_checkpoint(last_end)) is None

    # The next day runs credit:2 alone, against its own baseline.
    world.log_days(range(DAYS, DAYS + 1), np.random.default_rng(99), versions=("2",))
    runner.clock = lambda: START + dt.timedelta(days=DAYS + 1, minutes=1)
    (next_id,) = runner.catch_up("credit-daily")
    nxt = store.get_run(next_id)
    assert nxt.model_version == "2" and nxt.row_count == ROWS and "challenger" not in nxt.details
    assert not any(r.signal == "challenger" for r in nxt.results)


def test_promote_refuses_without_a_challenger_or_a_better_verdict(world: World) -> None:
    store = world.store
    plain = parse_monitor_spec({"name": "plain", "model": "credit", "version": "1"})
    store.upsert_monitor("plain", "credit", "1", plain.stored_dict(), start_at=START)
    with pytest.raises(SchemaError, match="declares no challenger"):
        promote(store, "plain")
    spec = _spec()
    store.upsert_monitor(spec.name, "credit", "1", spec.stored_dict(), start_at=START)
    with pytest.raises(ConflictError, match=r"not judged yet.*--force"):
        promote(store, "credit-daily")
    done = promote(store, "credit-daily", force=True)
    assert done.evidence["forced"] is True and store.get_monitor("credit-daily").model_version == "2"


def test_a_challenger_without_baseline_is_an_error_result_not_a_failed_run(tmp_path: Path) -> None:
    """The champion keeps being monitored; the challenger signal says what is wrong."""
    store = Store(f"sqlite:///{tmp_path / 'db'}")
    store.migrate()
    mv = credit_version()
    store.register_model_version(mv)
    store.register_model_version(credit_version(version="3"))  # registered, no baseline
    ref = applicants(1000, np.random.default_rng(0))
    ref["default"] = labels_for(ref, np.random.default_rng(1))
    ref["score"], ref["prediction"] = _score(credit_model(), ref)
    ref["request_id"] = [f"r{i}" for i in range(len(ref))]
    b = create_baseline(mv, ref, seed=0, threads=1)
    store.save_baseline(mv.name, mv.version, b.to_document(), b.sample_bytes())
    logs = LogStore(tmp_path)
    day = ref.head(300).assign(request_id=[f"d{i}" for i in range(300)],
                               timestamp=START + pd.to_timedelta(np.arange(300) * 60, unit="s"))  # fmt: skip
    assert logs.ingest_frame(mv, day.drop(columns=["default"])).accepted == 300
    spec = parse_monitor_spec({**_spec().stored_dict(), "challenger": {"version": "3"}, "webhooks": []})
    outcome = EngineEvaluator(store, Settings(home=tmp_path, threads=1)).evaluate(
        spec, Window(START, START + dt.timedelta(days=1))
    )
    assert outcome.row_count == 300 and not any(r.signal == "run" for r in outcome.results)
    (result,) = [r for r in outcome.results if r.signal == "challenger"]
    assert result.status == "error" and "has no baseline" in (result.message or "")
    assert "has no baseline" in outcome.details["challenger"]["error"]
    assert any(r.signal == "data_drift" and r.status in ("ok", "warning", "alert") for r in outcome.results)

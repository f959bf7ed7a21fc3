"""``EngineEvaluator`` end to end on a tmp store: labels from the log store, detector checkpoints.

Three daily windows of the seeded credit world are logged through the log store with 80 %
of their labels; the labels follow the concept-shifted relation from day 1. Each window's
change-detector state is saved under ``detector_checkpoint(window.end)`` and must be the
state the next window starts from.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from jobs.evaluation import EngineEvaluator, WindowOutcome, detector_checkpoint
from jobs.windows import Window
from monitor.ingest.logstore import LogStore
from monitor.signals.concept_drift import default_detectors, run_detectors
from monitor.spec.monitor import MonitorSpec, parse_monitor_spec
from monitor.spec.settings import Settings
from monitor.store import Store
from tests.monitor.test_model_signals_world import (
    T0,
    credit_baseline,
    credit_version,
    labels_of,
    logged,
    scored,
)

DAYS = 3
START = T0.to_pydatetime()


def _day(d: int) -> Window:
    return Window(START + dt.timedelta(days=d), START + dt.timedelta(days=d + 1))


class World:
    def __init__(self, home: Path) -> None:
        mv = credit_version()
        self.store = Store(f"sqlite:///{home}/db")
        self.store.migrate()
        self.store.register_model_version(mv)
        baseline = credit_baseline()
        self.store.save_baseline(
            mv.name, mv.version, baseline.to_document(), baseline.sample_bytes()
        )
        logs = LogStore(home)
        self.labelled: list[pd.DataFrame] = []
        for d in range(DAYS):
            window = scored(800, 60 + d, shift=d >= 1, prefix=f"d{d}", day=d)
            assert logs.ingest_frame(mv, logged(window)).accepted == 800
            labelled = window.sample(frac=0.8, random_state=d)
            arrived = labels_of(labelled).assign(label_timestamp=T0 + pd.Timedelta(days=d + 3))
            assert logs.ingest_labels_frame(mv, arrived).accepted == 640
            self.labelled.append(labelled)
        self.spec: MonitorSpec = parse_monitor_spec({
            "name": "credit-daily", "model": mv.name, "version": mv.version, "window": "1d",
            "signals": {"multivariate_drift": {"enabled": False}},
        })  # fmt: skip
        self.evaluator = EngineEvaluator(self.store, Settings(home=home, threads=1))

    def run(self, d: int) -> WindowOutcome:
        return self.evaluator.evaluate(self.spec, _day(d))

    def checkpoint(self, at: dt.datetime) -> tuple[dict, dt.datetime | None] | None:
        return self.store.load_detector_state(self.spec.name, detector_checkpoint(at))


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _events(outcome: WindowOutcome) -> list[tuple[str, int]]:
    return [
        (e["detector"], e["stream_index"])
        for r in outcome.results
        if r.signal == "concept_drift"
        for e in r.details["events"]
    ]


def test_each_window_saves_its_checkpoint_and_the_next_continues_from_it(world: World) -> None:
    outcomes = []
    for d in range(DAYS):
        assert world.checkpoint(_day(d).end) is None
        outcome = world.run(d)
        outcomes.append(outcome)
        state, covers = world.checkpoint(_day(d).end)
        assert covers == _day(d).end
        assert state["n_seen"] == 640 * (d + 1)  # only possible when continuing from day d-1
        assert outcome.details["details"] == {
            "labelled_rows": 640,
            "rows": 800,
            "label_coverage": 0.8,
            "alpha": 0.01,  # the monitor's false-alarm budget (the default)
        }
        assert outcome.row_count == 800

    # The same events as the whole labelled stream fed at once.
    joined = pd.concat(world.labelled).sort_values("timestamp")
    errors = (joined["default"] != joined["prediction"]).to_numpy(dtype=float)
    # The CUSUM was calibrated when the stream started (day 0) and keeps those parameters.
    first_state, _ = world.checkpoint(_day(0).end)
    params = {"cusum": first_state["detectors"]["cusum"]["params"]}
    whole, state = run_detectors(
        errors,
        joined["timestamp"].to_numpy(),
        None,
        detectors=default_detectors("binary"),
        seed=0,
        params=params,
    )
    assert sorted(e for o in outcomes for e in _events(o)) == sorted(
        (e["detector"], e["stream_index"]) for e in whole
    )
    assert world.checkpoint(_day(DAYS - 1).end)[0] == state
    # Day 0 is quiet. The shift on day 1 (error rate 0.27 -> 0.42) is caught that day by
    # accuracy; the CUSUM, tuned to a 3.5-point rise at its share of the budget on 640-label
    # days, has risen by the end of day 1 and fires early on day 2: it is only that
    # continuation across windows (the state carried) that lets it fire at all.
    assert _events(outcomes[0]) == []
    day1 = next(r for r in outcomes[1].results if r.signal == "concept_drift")
    assert day1.effect_size > 0.1 and day1.statistic > day1.threshold / 2
    assert [name for name, _ in _events(outcomes[2])][:1] == ["cusum"]
    assert 1280 <= _events(outcomes[2])[0][1] < 1280 + 640
    day2 = next(r for r in outcomes[2].results if r.signal == "concept_drift")
    assert day2.status == "alert" and day2.alpha is not None and day2.alpha <= 0.01
    accuracy = {r.metric: r for r in outcomes[1].results if r.signal == "performance"}["accuracy"]
    assert accuracy.status == "alert" and outcomes[1].status == "alert"


def test_rerunning_a_window_starts_from_the_same_checkpoint(world: World) -> None:
    first = [world.run(d) for d in range(DAYS)]
    saved = world.checkpoint(_day(1).end)
    again = world.run(1)
    assert [r.to_dict() for r in again.results] == [r.to_dict() for r in first[1].results]
    assert world.checkpoint(_day(1).end) == saved


def test_an_empty_window_carries_the_state_forward(world: World) -> None:
    for d in range(DAYS):
        world.run(d)
    outcome = world.run(DAYS)  # no traffic logged on this day
    assert (outcome.row_count, outcome.status) == (0, "no_data")
    assert world.checkpoint(_day(DAYS).end) == (
        world.checkpoint(_day(DAYS - 1).end)[0],
        _day(DAYS).end,
    )

"""The traffic signal end to end: ``EngineEvaluator`` + ``MonitorRunner`` + the outbox.

The seeded credit world logs rows on days 0-2, nothing on days 3-6 and rows again on
day 7. The count of windows without rows is carried between windows in the store (keyed
by window end), so the signal warns on days 3-4, alerts from day 5 (the default: 3
windows in a row), and its webhook events ``model.traffic.missing`` and
``model.traffic.restored`` are sent once each, even when windows are run again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.runner import MonitorRunner
from monitor.ingest.logstore import LogStore
from monitor.store import EndpointSpec
from tests.jobs.test_jobs_concept_engine import World, _day
from tests.monitor.test_model_signals_world import credit_version, logged, scored

EXPECTED = [  # (status, quiet windows in a row) per day
    ("ok", 0), ("ok", 0), ("ok", 0), ("warning", 1), ("warning", 2), ("alert", 3), ("alert", 4), ("ok", 0),
]  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path)
    assert (
        LogStore(tmp_path)
        .ingest_frame(credit_version(), logged(scored(300, 77, prefix="d7", day=7)))
        .accepted
        == 300
    )
    w.store.upsert_monitor(
        w.spec.name, w.spec.model, w.spec.version, w.spec.stored_dict(), start_at=_day(0).start,
        endpoints=[EndpointSpec("http://127.0.0.1:9/all", "whsec_c2VjcmV0"),
                   EndpointSpec("http://127.0.0.1:9/traffic", "s3cret", events=("model.traffic.missing",))],
    )  # fmt: skip
    return w


def _traffic(world: World, run_id: int) -> tuple[str, int]:
    run = world.store.get_run(run_id)
    (result,) = [r for r in run.results if r.signal == "traffic"]
    assert result.value is not None
    return result.status, int(result.value)


def test_quiet_windows_counted_across_runs_alert_once_and_restore(world: World) -> None:
    runner = MonitorRunner(world.store, world.evaluator)
    ids = [runner.run_window(world.spec, _day(d)) for d in range(8)]
    assert [_traffic(world, i) for i in ids] == EXPECTED
    quiet = world.store.get_run(ids[5])
    assert (
        quiet.status == "no_data" and quiet.row_count == 0
    )  # the run itself is still an empty window
    (alert,) = [r for r in quiet.results if r.signal == "traffic"]
    assert alert.details["since"] == _day(3).start.isoformat()
    assert alert.details["last_traffic_end"] == _day(2).end.isoformat()
    events = [
        (e.signal, e.event, e.window_end) for e in world.store.list_alert_events(world.spec.name)
    ]
    assert sorted(e for e in events if e[0] == "traffic") == [
        ("traffic", "firing", _day(5).end),
        ("traffic", "resolved", _day(7).end),
    ]
    kinds = sorted(
        (d.url.rsplit("/", 1)[1], d.event_type)
        for d in world.store.list_deliveries(monitor=world.spec.name)
    )
    assert ("all", "model.traffic.missing") in kinds and ("all", "model.traffic.restored") in kinds
    assert kinds.count(("all", "model.traffic.missing")) == 1
    assert [k for k in kinds if k[0] == "traffic"] == [("traffic", "model.traffic.missing")]


def test_rerunning_a_window_reads_the_state_before_it(world: World) -> None:
    runner = MonitorRunner(world.store, world.evaluator)
    for d in range(8):
        runner.run_window(world.spec, _day(d))
    before = len(world.store.list_deliveries(monitor=world.spec.name))
    again = [runner.run_window(world.spec, _day(d)) for d in (4, 5, 5)]
    assert [_traffic(world, i) for i in again] == [EXPECTED[4], EXPECTED[5], EXPECTED[5]]
    assert (
        len(world.store.list_deliveries(monitor=world.spec.name)) == before
    )  # no duplicate webhook


def test_the_threshold_is_configurable(tmp_path: Path) -> None:
    w = World(tmp_path)
    spec = w.spec.model_copy(
        update={"signals": w.spec.signals.model_validate({"traffic": {"windows": 1}})}
    )
    statuses = [
        [r.status for r in w.evaluator.evaluate(spec, _day(d)).results if r.signal == "traffic"]
        for d in (2, 3)
    ]
    assert statuses == [["ok"], ["alert"]]

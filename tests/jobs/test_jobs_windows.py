"""Cron ticks become windows; catch-up owes every missed tick once, in order."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from jobs.triggers import DelayedCronTrigger
from jobs.windows import Window, due_windows, windows_between
from monitor.spec.monitor import parse_monitor_spec

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _spec(**extra: object):  # type: ignore[no-untyped-def]
    return parse_monitor_spec({"name": "m", "model": "a", "version": "1", **extra})


def test_first_run_starts_at_start_at_and_respects_delay() -> None:
    spec = _spec(schedule="*/15 * * * *", window="1h", delay="5m")
    now = T0 + timedelta(minutes=34)
    windows = due_windows(spec, cursor=None, start_at=T0, now=now)
    assert [w.end for w in windows] == [T0, T0 + timedelta(minutes=15)]  # :30 not due until :35
    assert windows[0] == Window(T0 - timedelta(hours=1), T0)


def test_catch_up_from_cursor_is_exclusive_and_limited() -> None:
    spec = _spec(schedule="0 * * * *", window="2h")
    windows = due_windows(spec, cursor=T0, start_at=T0, now=T0 + timedelta(hours=5, minutes=1))
    assert [int((w.end - T0) / timedelta(hours=1)) for w in windows] == [1, 2, 3, 4, 5]
    assert all(w.end - w.start == timedelta(hours=2) for w in windows)
    assert len(due_windows(spec, cursor=T0, start_at=T0, now=T0 + timedelta(days=1), limit=3)) == 3
    assert due_windows(spec, cursor=T0, start_at=T0, now=T0 + timedelta(minutes=59)) == []


def test_spec_start_and_timezone() -> None:
    spec = _spec(schedule="0 6 * * *", timezone="Europe/Paris", window="1d",
                 start="2024-03-03T00:00:00Z")  # fmt: skip
    windows = due_windows(spec, cursor=None, start_at=T0, now=T0 + timedelta(days=4))
    assert [w.end for w in windows] == [datetime(2024, 3, d, 5, tzinfo=UTC) for d in (3, 4)]


def test_backfill_range_is_inclusive() -> None:
    spec = _spec(schedule="0 * * * *", window="1h")
    windows = windows_between(spec, T0, T0 + timedelta(hours=3))
    assert [w.end for w in windows] == [T0 + timedelta(hours=h) for h in range(4)]


def test_delayed_trigger_fires_after_each_tick_and_pickles() -> None:
    trigger = DelayedCronTrigger.from_crontab_delayed(
        "0 * * * *", timezone="UTC", delay=timedelta(minutes=7)
    )
    first = trigger.get_next_fire_time(None, T0)
    assert first == T0 + timedelta(minutes=7)
    second = trigger.get_next_fire_time(first, first + timedelta(microseconds=1))
    assert second == T0 + timedelta(hours=1, minutes=7)
    clone = pickle.loads(pickle.dumps(trigger))
    assert clone.delay == timedelta(minutes=7)
    assert clone.get_next_fire_time(None, T0) == first
    plain = CronTrigger.from_crontab("0 * * * *", timezone="UTC")
    assert plain.get_next_fire_time(None, T0) == T0

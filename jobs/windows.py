"""Which windows a monitor owes: cron ticks turned into ``[tick - window, tick)``.

A monitor's run for the cron tick ``t`` covers ``[t - window, t)`` and is due
once ``t + delay`` has passed. After a crash or a stop the service runs every
tick it missed, in order, from the monitor's cursor (the end of the last
completed window) — or from its ``start`` when it never ran.

>>> from datetime import datetime, timedelta, UTC
>>> from monitor.spec.monitor import parse_monitor_spec
>>> spec = parse_monitor_spec({"name": "m", "model": "a", "version": "1",
...                            "schedule": "0 * * * *", "window": "1h"})
>>> t = datetime(2024, 1, 1, tzinfo=UTC)
>>> [w.end.hour for w in due_windows(spec, cursor=None, start_at=t, now=t + timedelta(hours=2))]
[0, 1, 2]
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from monitor.spec.monitor import MonitorSpec
from monitor.spec.window import Window
from monitor.store.base import as_utc

_TICK = timedelta(microseconds=1)


def cron_trigger(spec: MonitorSpec) -> CronTrigger:
    """The APScheduler trigger of a monitor's schedule."""
    return CronTrigger.from_crontab(spec.schedule, timezone=spec.timezone)


def iter_ticks(spec: MonitorSpec, after: datetime, until: datetime) -> Iterator[datetime]:
    """Cron ticks ``t`` with ``after < t <= until`` (aware UTC)."""
    trigger = cron_trigger(spec)
    after, until = as_utc(after), as_utc(until)
    tick = trigger.get_next_fire_time(None, after + _TICK)
    while tick is not None and as_utc(tick) <= until:
        yield as_utc(tick)
        tick = trigger.get_next_fire_time(tick, tick + _TICK)


def due_windows(
    spec: MonitorSpec,
    *,
    cursor: datetime | None,
    start_at: datetime,
    now: datetime,
    limit: int | None = None,
) -> list[Window]:
    """Windows owed by a monitor at ``now``, oldest first.

    Parameters
    ----------
    cursor
        End of the last completed window, or ``None`` when the monitor never ran.
    start_at
        The first tick considered when ``cursor`` is ``None`` (inclusive).
    now
        Current time; a tick is due once ``tick + spec.delay <= now``.
    limit
        At most this many windows (the oldest).
    """
    after = as_utc(cursor) if cursor is not None else as_utc(start_at) - _TICK
    if spec.start is not None:
        after = max(after, as_utc(spec.start) - _TICK)
    windows: list[Window] = []
    for tick in iter_ticks(spec, after, as_utc(now) - spec.delay):
        windows.append(Window(tick - spec.window, tick))
        if limit is not None and len(windows) >= limit:
            break
    return windows


def windows_between(spec: MonitorSpec, start: datetime, end: datetime) -> list[Window]:
    """Windows of every tick in ``[start, end]``, for backfills."""
    return [Window(t - spec.window, t) for t in iter_ticks(spec, as_utc(start) - _TICK, end)]

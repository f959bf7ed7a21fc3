"""A cron trigger that fires ``delay`` after each tick, for late-arriving logs.

APScheduler 3 stores triggers pickled in its job store, so the delay is part of
the pickled state (``__getstate__``/``__setstate__``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger


class DelayedCronTrigger(CronTrigger):
    """:class:`CronTrigger` shifted later by ``delay``.

    Parameters
    ----------
    delay
        How long after each cron tick the job fires.
    **cron
        Arguments of :class:`~apscheduler.triggers.cron.CronTrigger`.
    """

    def __init__(self, delay: timedelta = timedelta(0), **cron: Any) -> None:
        super().__init__(**cron)
        self.delay = delay

    @classmethod
    def from_crontab_delayed(
        cls, expr: str, *, timezone: str, delay: timedelta
    ) -> DelayedCronTrigger:
        """Build from a 5-field crontab expression."""
        minute, hour, day, month, day_of_week = expr.split()
        return cls(
            delay=delay, minute=minute, hour=hour, day=day, month=month,
            day_of_week=day_of_week, timezone=timezone,
        )  # fmt: skip

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        prev = None if previous_fire_time is None else previous_fire_time - self.delay
        tick = super().get_next_fire_time(prev, now - self.delay)
        return None if tick is None else tick + self.delay

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["delay_s"] = self.delay.total_seconds()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.delay = timedelta(seconds=state.get("delay_s", 0.0))

    def __str__(self) -> str:
        return f"{super().__str__()} + {self.delay}"

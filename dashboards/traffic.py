"""What the traffic signal says about a monitor's newest window, for the banners.

The overview and the model page read the stored result of the ``traffic`` signal
(:mod:`monitor.signals.traffic`) of a monitor's newest run: how many windows in a
row had no rows, since when, and whether that is a warning or an alert. Runs
stored before the signal existed (or with it disabled) have no such result; the
pages then count the empty windows themselves.

>>> state = TrafficState(status="alert", quiet=4, since="2026-10-07T00:00:00+00:00", threshold=3)
>>> traffic_text(state)
'no traffic for 4 windows in a row (since 2026-10-07 00:00; alerts from 3)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from monitor.signals.traffic import SIGNAL


@dataclass(frozen=True)
class TrafficState:
    """The traffic signal's verdict on one window."""

    status: str
    quiet: int
    since: str | None
    threshold: int | None


def traffic_state(status: Any, value: Any, threshold: Any, details: Any) -> TrafficState | None:
    """A state from one stored result's columns (``None`` when it has no count)."""
    if value is None or pd.isna(value):
        return None
    since = details.get("since") if isinstance(details, dict) else None
    limit = None if threshold is None or pd.isna(threshold) else int(threshold)
    return TrafficState(status=str(status), quiet=int(value), since=since, threshold=limit)


def traffic_of(results: pd.DataFrame, run_id: int) -> TrafficState | None:
    """The traffic signal's state in run ``run_id`` (``None`` when it has no result)."""
    mine = results[(results["run_id"] == run_id) & (results["signal"] == SIGNAL)]
    if mine.empty:
        return None
    row = mine.iloc[0]
    return traffic_state(row["status"], row["value"], row["threshold"], row["details"])


def traffic_text(state: TrafficState) -> str:
    """``no traffic for 4 windows in a row (since …; alerts from 3)``."""
    when = ""
    if state.since:
        when = f"since {pd.Timestamp(state.since):%Y-%m-%d %H:%M}"
    limit = f"alerts from {state.threshold}" if state.threshold else ""
    extra = "; ".join(p for p in (when, limit) if p)
    plural = "s" if state.quiet != 1 else ""
    return f"no traffic for {state.quiet} window{plural} in a row" + (
        f" ({extra})" if extra else ""
    )

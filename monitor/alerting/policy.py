"""The alert state machine of one (monitor, signal): ``ok → firing → resolved``.

Pure functions, applied by the store inside the run's transaction.

* A signal is *breached* when its worst result status is ``alert``.
* ``no_data`` and ``error`` are no evidence either way: the state does not move.
* Breached while ``ok``/``resolved`` → ``firing`` (event ``firing``), unless the
  last firing was less than ``cooldown`` before this window's end: then the
  state stays and the flap is suppressed.
* Not breached while ``firing`` → ``resolved`` (event ``resolved``).

Times are window ends, not wall-clock times, so a re-run or a catch-up decides
exactly as the original run would have.

>>> from datetime import datetime, timedelta, UTC
>>> t = datetime(2024, 1, 1, tzinfo=UTC)
>>> decide(None, None, "alert", t, timedelta(hours=1)).event
'firing'
>>> decide("resolved", t, "alert", t + timedelta(minutes=5), timedelta(hours=1)).event is None
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from monitor.signals.results import SignalResult, worst_status

AlertState = Literal["ok", "firing", "resolved"]
AlertEvent = Literal["firing", "resolved"]


@dataclass(frozen=True)
class AlertPolicy:
    """How a monitor turns signal statuses into alerts and webhook events.

    Parameters
    ----------
    cooldown
        Minimum time between two ``firing`` events of the same signal.
    retrain_signals
        Signals whose firing also emits ``model.retrain.requested``.
    dashboard_url
        Base URL of the dashboard, for the link in payloads.
    retrain_every
        Also request retraining once per period (``reason: schedule``).
    """

    cooldown: timedelta = timedelta(0)
    retrain_signals: frozenset[str] = field(default_factory=frozenset)
    dashboard_url: str | None = None
    retrain_every: timedelta | None = None


@dataclass(frozen=True)
class Decision:
    """The outcome of one window for one signal."""

    state: AlertState
    event: AlertEvent | None
    suppressed: bool = False


def signal_statuses(results: Iterable[SignalResult]) -> dict[str, str]:
    """Worst status per signal, in order of first appearance."""
    grouped: dict[str, list[str]] = {}
    for r in results:
        grouped.setdefault(r.signal, []).append(r.status)
    return {signal: worst_status(statuses) for signal, statuses in grouped.items()}


def decide(
    previous: str | None,
    last_fired_at: datetime | None,
    status: str,
    window_end: datetime,
    cooldown: timedelta,
) -> Decision:
    """Next state of one signal's alert after a window with ``status``.

    Parameters
    ----------
    previous
        Current state, or ``None`` when the signal has never been evaluated.
    last_fired_at
        Window end of the last ``firing`` event, if any.
    status
        Worst status of the signal's results in this window.
    window_end
        End of the window being applied.
    cooldown
        Minimum time between two ``firing`` events.
    """
    current: AlertState = previous if previous in ("ok", "firing", "resolved") else "ok"  # type: ignore[assignment]
    if status in ("no_data", "error"):
        return Decision(current, None)
    if status == "alert":
        if current == "firing":
            return Decision("firing", None)
        if last_fired_at is not None and window_end - last_fired_at < cooldown:
            return Decision(current, None, suppressed=True)
        return Decision("firing", "firing")
    if current == "firing":
        return Decision("resolved", "resolved")
    return Decision(current, None)

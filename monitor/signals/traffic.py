"""No traffic: windows in a row in which the model logged (almost) no rows.

Every other signal judges what the rows say; this one judges that rows arrived at
all. A window with fewer than ``min_rows`` rows (default 1: an empty window) is a
window *without traffic*. The count of such windows in a row is carried from one
window to the next (``context.carry["traffic"]``), so the signal reads the history
of the earlier windows without reading them again:

* rows arrived: ``ok`` (the count restarts at 0);
* fewer than ``windows`` quiet windows in a row (default 3): ``warning``;
* ``windows`` or more in a row: ``alert``, with the start of the first quiet window.

The rule is deterministic, not a test: a model whose traffic keeps arriving never
alerts, so the signal spends none of the monitor's false-alarm budget. Its alert
moves through the alert state machine like any other, and its webhook events are
``model.traffic.missing`` (when it starts firing) and ``model.traffic.restored``
(when rows arrive again).

>>> from types import SimpleNamespace
>>> carry: dict = {}  # what the service keeps between windows
>>> def window(rows):
...     return SignalContext(baseline=None, window=SimpleNamespace(row_count=rows), carry=carry)
>>> [evaluate(window(n), TrafficSettings())[0].status for n in (500, 0, 0, 0, 0, 120)]
['ok', 'warning', 'warning', 'alert', 'alert', 'ok']
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from monitor.errors import DataError
from monitor.signals.base import SignalContext, SignalSettings, error
from monitor.signals.results import SignalResult, Status

__all__ = ["METRIC", "SIGNAL", "STATE_VERSION", "TrafficSettings", "evaluate"]

SIGNAL = "traffic"
METRIC = "windows_without_traffic"
STATE_VERSION = 1


class TrafficSettings(SignalSettings):
    """``signals.traffic``: how many windows without traffic in a row page.

    ``windows`` quiet windows in a row raise the alert (default 3); a window with
    fewer than ``min_rows`` rows counts as quiet (default 1: only empty windows).
    """

    windows: int = Field(default=3, ge=1, le=10_000)
    min_rows: int = Field(default=1, ge=1)


Settings = TrafficSettings


def _previous(state: Any) -> tuple[int, str | None, str | None]:
    """``(quiet windows in a row, first quiet window's start, last window with traffic's end)``
    after the previous window; zeros when nothing was carried."""
    if state is None:
        return 0, None, None
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        version = state.get("version") if isinstance(state, dict) else type(state).__name__
        raise DataError(f"the carried traffic state has version {version!r}, not {STATE_VERSION}")
    quiet = state.get("quiet_windows")
    if not isinstance(quiet, int) or isinstance(quiet, bool) or quiet < 0:
        raise DataError(
            f"the carried traffic state has quiet_windows={quiet!r}; expected an integer >= 0"
        )
    return quiet, state.get("since"), state.get("last_traffic_end")


def evaluate(context: SignalContext, settings: TrafficSettings) -> list[SignalResult]:
    """Count this window into the quiet windows in a row and judge the count."""
    rows = context.window.row_count
    quiet_now = rows < settings.min_rows
    start = context.span.start.isoformat() if context.span is not None else None
    end = context.span.end.isoformat() if context.span is not None else None
    try:
        before, since, last_end = _previous(context.carry.get(SIGNAL))
    except DataError as err:  # an unreadable state must not poison every later window
        context.carry[SIGNAL] = _state(
            int(quiet_now), start if quiet_now else None, None if quiet_now else end
        )
        return [error(SIGNAL, METRIC, f"{err}; counting restarts from this window", n=rows)]
    quiet = before + 1 if quiet_now else 0
    since = (since or start) if quiet_now else None
    last_end = last_end if quiet_now else end
    context.carry[SIGNAL] = _state(quiet, since, last_end)
    status: Status = "alert" if quiet >= settings.windows else "warning" if quiet else "ok"
    if quiet_now:
        when = f" since {since}" if since else ""
        message = (
            f"no traffic for {quiet} window{'s' if quiet != 1 else ''} in a row{when} "
            f"({rows} rows in this one; {settings.windows} in a row page): check that the serving "
            "code still logs to raiwatch"
        )
    else:
        message = f"{rows:,} rows in this window"
    return [
        SignalResult(
            signal=SIGNAL, metric=METRIC, value=float(quiet), threshold=float(settings.windows),
            status=status, alpha=0.0, correction="none", current_size=rows, message=message,
            details={"since": since, "last_traffic_end": last_end, "min_rows": settings.min_rows},
        )
    ]  # fmt: skip


def _state(quiet: int, since: str | None, last_end: str | None) -> dict[str, Any]:
    return {
        "version": STATE_VERSION,
        "quiet_windows": quiet,
        "since": since,
        "last_traffic_end": last_end,
    }

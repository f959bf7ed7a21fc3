"""Run monitors over windows: one window, the catch-up of missed windows, backfills.

A run is identified by (monitor, window). Its results, alert transitions and
webhook deliveries are committed in one transaction together with the
monitor's cursor, so a crash before the commit leaves the window owed (it runs
again on restart) and a crash after it leaves nothing to redo.

An evaluation that fails on a transient error (the database or the data
directory unavailable, a log file swapped away mid-scan) is retried with a
short backoff; if it keeps failing the window is *not* stored as ``error``: the
catch-up stops and the window stays owed, so the scheduler runs it again later.
Any other exception is stored as an explicit ``error`` run. A lease in the
``monitors`` row keeps a monitor to one runner at a time across processes.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta

from jobs.evaluation import WindowEvaluator, WindowOutcome
from jobs.outage import is_unavailable
from jobs.windows import Window, due_windows, windows_between
from monitor.errors import SchemaError
from monitor.redaction import redact
from monitor.signals.results import SignalResult
from monitor.spec.model_version import MAX_COLUMN_NAME_CHARS
from monitor.spec.monitor import MonitorSpec
from monitor.store import AlertPolicy, Store
from monitor.store.base import utcnow

log = logging.getLogger(__name__)
#: Length of the results' ``feature`` column on every store.
MAX_STORED_NAME_CHARS = 256
TRANSIENT_RETRIES_S = (0.2, 1.0, 3.0)
Progress = Callable[[Window, int], None]


def default_owner() -> str:
    """A lease owner id unique to this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class TransientRunError(RuntimeError):
    """A window could not be evaluated because a store stayed unavailable; it stays owed."""


def is_transient(err: BaseException) -> bool:
    """Errors worth retrying: an unavailable store, or a file swapped away mid-scan."""
    return is_unavailable(err) or isinstance(err, FileNotFoundError)


class MonitorRunner:
    """Evaluate monitors and store their runs.

    Parameters
    ----------
    store
        The migrated store.
    evaluator
        Computes the results of a window.
    dashboard_url
        Base URL put in webhook payloads.
    owner
        Lease owner id (default: host and pid).
    lease_ttl
        How long a lease lasts without renewal; a runner killed mid-run blocks
        its monitor for at most this long.
    clock
        Current time (tests pass a fake clock).
    """

    def __init__(
        self,
        store: Store,
        evaluator: WindowEvaluator,
        *,
        dashboard_url: str | None = None,
        owner: str | None = None,
        lease_ttl: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.evaluator = evaluator
        self.dashboard_url = dashboard_url
        self.owner = owner or default_owner()
        self.lease_ttl = lease_ttl
        self.clock = clock

    def spec(self, name: str) -> MonitorSpec:
        """The stored spec of monitor ``name``."""
        return MonitorSpec.from_stored(self.store.get_monitor(name).spec)

    def policy(self, spec: MonitorSpec) -> AlertPolicy:
        """The alert policy of ``spec``."""
        return AlertPolicy(
            cooldown=spec.cooldown,
            retrain_signals=frozenset(spec.retrain_on),
            dashboard_url=self.dashboard_url,
            retrain_every=spec.retrain_every,
        )

    def _evaluate(self, spec: MonitorSpec, window: Window) -> WindowOutcome:
        for attempt, pause in enumerate((*TRANSIENT_RETRIES_S, None), start=1):
            try:
                return self.evaluator.evaluate(spec, window)
            except Exception as err:
                if not is_transient(err):
                    return self._error_outcome(spec, window, err)
                if pause is None:
                    raise TransientRunError(
                        f"monitor {spec.name} window {window}: still failing after {attempt} attempts "
                        f"({type(err).__name__}); the window stays owed and is retried later"
                    ) from err
                log.warning("monitor %s window %s: transient %s (attempt %d); retrying in %.1fs",
                            spec.name, window, type(err).__name__, attempt, pause)  # fmt: skip
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _error_outcome(self, spec: MonitorSpec, window: Window, err: Exception) -> WindowOutcome:
        """An explicit ``error`` run (never "ok"), its message and traceback redacted."""
        log.error("monitor %s window %s failed", spec.name, window, exc_info=err)
        message = redact(f"{type(err).__name__}: {err}")
        result = SignalResult(signal="run", metric="exception", value=None, status="error", message=message)
        trace = redact("".join(traceback.format_exception(err, limit=5)))
        return WindowOutcome(
            status="error", results=[result], row_count=0,
            details={"error": message, "traceback": trace},
        )  # fmt: skip

    def run_window(self, spec: MonitorSpec, window: Window, *, notify: bool = True) -> int:
        """Evaluate one window and store it (re-running replaces it); returns the run id."""
        began = time.perf_counter()
        outcome = self._evaluate(spec, window)
        too_long = sorted({r.feature for r in outcome.results
                           if r.feature is not None and len(r.feature) > MAX_STORED_NAME_CHARS})  # fmt: skip
        if too_long:  # would fail to save on PostgreSQL forever: store why instead
            outcome = self._error_outcome(spec, window, SchemaError(
                f"column name(s) longer than {MAX_STORED_NAME_CHARS} characters cannot be stored: "
                f"{[n[:40] + '...' for n in too_long[:5]]}; rename them in the model version "
                f"(names are limited to {MAX_COLUMN_NAME_CHARS} characters)"))  # fmt: skip
        return self.store.save_run(
            spec.name, spec.model, spec.version, window.start, window.end, outcome.status,
            outcome.results, outcome.row_count, time.perf_counter() - began, outcome.details,
            policy=self.policy(spec) if notify else None,
        )  # fmt: skip

    def catch_up(self, name: str, *, max_windows: int | None = None) -> list[int]:
        """Run every window ``name`` owes now, oldest first; returns the run ids.

        Returns an empty list when another runner holds the monitor's lease or
        the monitor is disabled.
        """
        if not self.store.acquire_lease(name, self.owner, self.lease_ttl):
            log.info("monitor %s is being run elsewhere; skipping", name)
            return []
        run_ids: list[int] = []
        try:
            record = self.store.get_monitor(name)
            if not record.enabled:
                return []
            spec = MonitorSpec.from_stored(record.spec)
            windows = due_windows(
                spec, cursor=record.last_completed_end, start_at=record.start_at,
                now=self.clock(), limit=max_windows,
            )  # fmt: skip
            renewed = time.monotonic()
            for window in windows:
                if time.monotonic() - renewed > self.lease_ttl.total_seconds() / 3:
                    if not self.store.acquire_lease(name, self.owner, self.lease_ttl):
                        log.warning("lost the lease of monitor %s; stopping catch-up", name)
                        break
                    renewed = time.monotonic()
                try:
                    run_ids.append(self.run_window(spec, window))
                except TransientRunError as err:
                    log.warning("%s", err)
                    break
        finally:
            self.store.release_lease(name, self.owner)
        return run_ids

    def backfill(
        self,
        name: str,
        start: datetime,
        end: datetime,
        *,
        notify: bool = False,
        progress: Progress | None = None,
    ) -> list[int]:
        """Run ``name`` over the windows of every tick in ``[start, end]``.

        Backfilled windows older than the alert state never move it; with
        ``notify=False`` (the default) no alert is evaluated at all.
        """
        spec = self.spec(name)
        run_ids: list[int] = []
        for i, window in enumerate(windows_between(spec, start, end)):
            run_ids.append(self.run_window(spec, window, notify=notify))
            if progress is not None:
                progress(window, i + 1)
        return run_ids

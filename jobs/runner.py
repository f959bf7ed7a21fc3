"""Run monitors over windows: one window, the catch-up of missed windows, backfills.

A run is identified by (monitor, window). Its results, alert transitions and
webhook deliveries are committed in one transaction together with the
monitor's cursor, so a crash before the commit leaves the window owed (it runs
again on restart) and a crash after it leaves nothing to redo. A lease in the
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
from jobs.windows import Window, due_windows, windows_between
from monitor.signals.results import SignalResult
from monitor.spec.monitor import MonitorSpec
from monitor.store import AlertPolicy, Store
from monitor.store.base import utcnow

log = logging.getLogger(__name__)
Progress = Callable[[Window, int], None]


def default_owner() -> str:
    """A lease owner id unique to this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


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
        )

    def _evaluate(self, spec: MonitorSpec, window: Window) -> WindowOutcome:
        try:
            return self.evaluator.evaluate(spec, window)
        except Exception as err:  # stored as an explicit error run, never as "ok"
            log.exception("monitor %s window %s failed", spec.name, window)
            message = f"{type(err).__name__}: {err}"
            result = SignalResult(signal="run", metric="exception", value=None, status="error", message=message)
            return WindowOutcome(
                status="error",
                results=[result],
                row_count=0,
                details={"error": message, "traceback": traceback.format_exc(limit=5)},
            )

    def run_window(self, spec: MonitorSpec, window: Window, *, notify: bool = True) -> int:
        """Evaluate one window and store it (re-running replaces it); returns the run id."""
        began = time.perf_counter()
        outcome = self._evaluate(spec, window)
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
                run_ids.append(self.run_window(spec, window))
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

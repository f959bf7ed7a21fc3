"""The compaction job: compact every model version's logs and prune old idempotency records.

``raiwatch logs compact`` runs it once; ``raiwatch serve`` runs it every
``settings.compaction_interval_s`` seconds in a background thread. Compaction is
atomic and kill-safe (see :mod:`monitor.ingest.compaction`), so the job can be
stopped at any point.
"""

from __future__ import annotations

import logging
import threading

from jobs.idempotency import prune
from monitor.ingest.compaction import CompactionReport, compact_logs
from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import ModelVersion
from monitor.store import Store

log = logging.getLogger("raiwatch.compaction")


def compact_all(
    store: Store, logs: LogStore, *, min_files: int = 8, versions: list[ModelVersion] | None = None
) -> dict[str, CompactionReport]:
    """Compact the logs of ``versions`` (default: every registered one); returns reports by ``name:version``."""
    reports: dict[str, CompactionReport] = {}
    for mv in versions if versions is not None else store.list_model_versions():
        report = compact_logs(logs, mv, min_files=min_files)
        reports[f"{mv.name}:{mv.version}"] = report
        if report.days:
            log.info("compacted %s:%s: %d day(s), %d files -> %d, %d rows", mv.name, mv.version,
                     report.days, report.files_before, report.files_after, report.rows)  # fmt: skip
    prune(logs.root / "_idempotency")
    return reports


class CompactionLoop:
    """Run :func:`compact_all` every ``interval_s`` seconds in a daemon thread."""

    def __init__(self, store: Store, logs: LogStore, *, interval_s: float, min_files: int) -> None:
        self.store, self.logs = store, logs
        self.interval_s, self.min_files = interval_s, min_files
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                compact_all(self.store, self.logs, min_files=self.min_files)
            except Exception as err:  # the database or the disk may be down: try next time
                log.warning("compaction skipped this time: %s: %s", type(err).__name__, err)

    def start(self) -> None:
        if self.interval_s <= 0:
            return
        self._thread = threading.Thread(target=self._run, name="log-compaction", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

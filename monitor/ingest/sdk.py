"""Log inferences from serving code: buffered, thread-safe, never blocking for long.

    >>> logger = InferenceLogger(model_version, LogStore(".raiwatch"))   # doctest: +SKIP
    >>> logger.log({"age": 41, "income": 52_000}, prediction=1, scores=[0.83])  # doctest: +SKIP

Rows go to an in-memory buffer under a lock (microseconds). A background
thread writes the buffer when it reaches ``flush_rows`` rows or every
``flush_interval_s`` seconds; :meth:`InferenceLogger.close` (also registered
with ``atexit``) writes whatever is left, so a clean exit loses no rows. If the
sink falls behind and the buffer holds ``max_buffer_rows``, ``log`` waits at most
``block_timeout_s`` and then drops the row, counting it in ``dropped``.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import logging
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import pandas as pd

from monitor.ingest.logstore import IngestReport, LogStore
from monitor.spec.model_version import ModelVersion

log = logging.getLogger("raiwatch.sdk")


class Sink(Protocol):
    def ingest_frame(self, mv: ModelVersion, frame: pd.DataFrame, *, source: str = ...) -> IngestReport: ...


class InferenceLogger:
    """Buffered logger of one model version's inferences."""

    def __init__(
        self,
        model_version: ModelVersion,
        sink: Sink | LogStore,
        *,
        flush_rows: int = 1000,
        flush_interval_s: float = 5.0,
        max_buffer_rows: int = 100_000,
        block_timeout_s: float = 0.05,
    ) -> None:
        if flush_rows < 1 or max_buffer_rows < flush_rows:
            raise ValueError(
                f"need 1 <= flush_rows <= max_buffer_rows, got flush_rows={flush_rows}, "
                f"max_buffer_rows={max_buffer_rows}"
            )
        self.mv = model_version
        self.sink = sink
        self.flush_rows = flush_rows
        self.flush_interval_s = flush_interval_s
        self.max_buffer_rows = max_buffer_rows
        self.block_timeout_s = block_timeout_s
        self.logged = 0
        self.dropped = 0
        self.report = IngestReport()
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._closed = False
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="raiwatch-logger", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def log(
        self,
        features: Mapping[str, Any],
        prediction: Any,
        scores: Sequence[float] | None = None,
        *,
        request_id: str | None = None,
        timestamp: dt.datetime | None = None,
    ) -> str:
        """Buffer one inference; returns its request id (generated when not given)."""
        if self._closed:
            raise RuntimeError("this InferenceLogger is closed; create a new one")
        rid = request_id or uuid.uuid4().hex
        row = dict(features)
        row[self.mv.id_column] = rid
        row[self.mv.timestamp_column] = timestamp or dt.datetime.now(dt.UTC)
        if self.mv.prediction is not None:
            row[self.mv.prediction] = prediction
        for name, value in zip(self.mv.scores, scores or (), strict=False):
            row[name] = value
        with self._space:
            if len(self._rows) >= self.max_buffer_rows:
                self._wake.set()
                self._space.wait(self.block_timeout_s)
                if len(self._rows) >= self.max_buffer_rows:
                    self.dropped += 1
                    return rid
            self._rows.append(row)
            self.logged += 1
            if len(self._rows) >= self.flush_rows:
                self._wake.set()
        return rid

    def _take(self) -> list[dict[str, Any]]:
        with self._space:
            rows, self._rows = self._rows, []
            self._space.notify_all()
        return rows

    def flush(self) -> IngestReport:
        """Write the buffered rows now (called by the background thread and ``close``)."""
        with self._write_lock:
            rows = self._take()
            if not rows:
                return IngestReport()
            frame = pd.DataFrame(rows)
            for name in [s.name for s in self.mv.features] + list(self.mv.scores):
                if name not in frame:
                    frame[name] = None
            try:
                report = self.sink.ingest_frame(self.mv, frame, source="sdk")
            except Exception:
                # Keep the rows for the next attempt rather than losing them.
                with self._space:
                    self._rows[:0] = rows
                log.exception("raiwatch: writing %d inference rows failed; will retry", len(rows))
                raise
            self.report.add(report)
            return report

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            # A failed write is logged in flush() and its rows stay buffered for the next try.
            with contextlib.suppress(Exception):
                self.flush()

    def close(self) -> IngestReport:
        """Flush everything and stop the background thread (idempotent)."""
        if not self._closed:
            self._closed = True
            self._wake.set()
            self._thread.join(timeout=max(5.0, self.flush_interval_s))
            atexit.unregister(self.close)
        self.flush()
        return self.report

    def __enter__(self) -> InferenceLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

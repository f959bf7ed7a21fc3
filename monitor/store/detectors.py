"""JSON state of streaming detectors (concept drift), per monitor and detector."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from monitor.store.base import as_utc
from monitor.store.session import StoreCore
from monitor.store.tables_runs import DetectorStateRow


class DetectorStateStore(StoreCore):
    """Carry detector state from one run of a monitor to the next."""

    def load_detector_state(
        self, monitor: str, detector: str
    ) -> tuple[dict[str, Any], datetime | None] | None:
        """``(state, window_end it covers)`` or ``None`` when never saved."""
        with self.session() as session:
            row = session.scalar(
                select(DetectorStateRow).where(
                    DetectorStateRow.monitor == monitor, DetectorStateRow.detector == detector
                )
            )
            return None if row is None else (row.state, row.window_end)

    def load_state_before(
        self, monitor: str, signal: str, end: datetime
    ) -> tuple[dict[str, Any], datetime | None] | None:
        """The newest ``signal@…`` state saved for a window ending before ``end``.

        Keyed by window end, so re-running a window reads the state after the window
        before it, whatever ran since (idempotent), and overlapping windows chain too.
        """
        with self.session() as session:
            row = session.scalar(
                select(DetectorStateRow)
                .where(
                    DetectorStateRow.monitor == monitor,
                    DetectorStateRow.detector.startswith(f"{signal}@", autoescape=True),
                    DetectorStateRow.window_end < as_utc(end),
                )
                .order_by(DetectorStateRow.window_end.desc())
                .limit(1)
            )
            return None if row is None else (row.state, row.window_end)

    def save_detector_state(
        self, monitor: str, detector: str, state: dict[str, Any], window_end: datetime | None
    ) -> None:
        """Replace the state of one detector (JSON only, never a pickle)."""
        with self.session() as session:
            row = session.scalar(
                select(DetectorStateRow)
                .where(DetectorStateRow.monitor == monitor, DetectorStateRow.detector == detector)
                .with_for_update()
            )
            if row is None:
                row = DetectorStateRow(monitor=monitor, detector=detector)
                session.add(row)
            row.state = state
            row.window_end = None if window_end is None else as_utc(window_end)

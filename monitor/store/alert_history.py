"""Read alert states and alert events."""

from __future__ import annotations

from sqlalchemy import select

from monitor.store.records import AlertEventRecord, AlertStateRecord
from monitor.store.session import StoreCore
from monitor.store.tables_alerts import AlertEventRow, AlertStateRow


class AlertHistoryStore(StoreCore):
    """Current alert states and the log of their transitions."""

    def list_alert_states(self, monitor: str | None = None) -> list[AlertStateRecord]:
        """Alert state of every (monitor, signal) evaluated so far."""
        query = select(AlertStateRow).order_by(AlertStateRow.monitor, AlertStateRow.signal)
        if monitor is not None:
            query = query.where(AlertStateRow.monitor == monitor)
        with self.session() as session:
            return [
                AlertStateRecord(
                    monitor=r.monitor,
                    signal=r.signal,
                    state=r.state,
                    since=r.since,
                    last_window_end=r.last_window_end,
                    last_fired_at=r.last_fired_at,
                    last_run_id=r.last_run_id,
                )
                for r in session.scalars(query)
            ]

    def list_alert_events(
        self, monitor: str | None = None, *, limit: int = 100
    ) -> list[AlertEventRecord]:
        """Alert transitions, newest window first."""
        query = (
            select(AlertEventRow)
            .order_by(AlertEventRow.window_end.desc(), AlertEventRow.id.desc())
            .limit(limit)
        )
        if monitor is not None:
            query = query.where(AlertEventRow.monitor == monitor)
        with self.session() as session:
            return [
                AlertEventRecord(
                    id=r.id,
                    monitor=r.monitor,
                    signal=r.signal,
                    event=r.event,
                    run_id=r.run_id,
                    window_start=r.window_start,
                    window_end=r.window_end,
                    created_at=r.created_at,
                )
                for r in session.scalars(query)
            ]

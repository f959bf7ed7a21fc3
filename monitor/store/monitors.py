"""Declared monitors, their webhook endpoints, catch-up cursors and run leases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from monitor.errors import NotFoundError
from monitor.store.base import as_utc, utcnow
from monitor.store.events import EVENT_TYPES
from monitor.store.records import EndpointRecord, MonitorRecord
from monitor.store.session import StoreCore
from monitor.store.tables_alerts import WebhookEndpointRow
from monitor.store.tables_runs import MonitorRow


@dataclass(frozen=True)
class EndpointSpec:
    """A webhook target to store for a monitor; ``secret`` is hidden from ``repr``."""

    url: str
    secret: str = field(repr=False)
    events: tuple[str, ...] = EVENT_TYPES
    timeout_s: float = 10.0
    max_attempts: int = 8


def _record(row: MonitorRow) -> MonitorRecord:
    return MonitorRecord(
        name=row.name,
        model_name=row.model_name,
        model_version=row.model_version,
        spec=row.spec,
        enabled=row.enabled,
        start_at=row.start_at,
        last_completed_end=row.last_completed_end,
    )


class MonitorStore(StoreCore):
    """Monitors: declaration, endpoints, catch-up cursor and single-runner lease."""

    def _monitor_row(self, session: Session, name: str) -> MonitorRow:
        row = session.scalar(select(MonitorRow).where(MonitorRow.name == name))
        if row is None:
            known = session.scalars(select(MonitorRow.name).order_by(MonitorRow.name)).all()
            raise NotFoundError(
                f"monitor {name!r} does not exist; known monitors: {list(known) or 'none'}; "
                "add one with 'raiwatch monitor add -f monitor.yaml'"
            )
        return row

    def upsert_monitor(
        self,
        name: str,
        model_name: str,
        model_version: str,
        spec: dict[str, Any],
        *,
        start_at: datetime,
        endpoints: list[EndpointSpec] = (),  # type: ignore[assignment]
    ) -> None:
        """Create or update a monitor; its cursor survives updates.

        Endpoints are matched by URL: new ones are added, known ones updated,
        and endpoints no longer declared are disabled (their history is kept).
        """
        with self.session() as session:
            row = session.scalar(select(MonitorRow).where(MonitorRow.name == name))
            if row is None:
                row = MonitorRow(name=name, start_at=as_utc(start_at), enabled=True)
                session.add(row)
            row.model_name, row.model_version, row.spec = model_name, model_version, spec
            row.updated_at = utcnow()
            existing = {
                e.url: e
                for e in session.scalars(
                    select(WebhookEndpointRow).where(WebhookEndpointRow.monitor == name)
                )
            }
            for spec_e in endpoints:
                e = existing.pop(spec_e.url, None)
                if e is None:
                    e = WebhookEndpointRow(monitor=name, url=spec_e.url)
                    session.add(e)
                e.secret, e.events = spec_e.secret, list(spec_e.events)
                e.timeout_s, e.max_attempts = spec_e.timeout_s, spec_e.max_attempts
                e.enabled = True
            for stale in existing.values():
                stale.enabled = False

    def get_monitor(self, name: str) -> MonitorRecord:
        """One monitor (``NotFoundError`` lists the known ones)."""
        with self.session() as session:
            return _record(self._monitor_row(session, name))

    def list_monitors(self, *, enabled_only: bool = False) -> list[MonitorRecord]:
        """Every monitor, by name."""
        query = select(MonitorRow).order_by(MonitorRow.name)
        if enabled_only:
            query = query.where(MonitorRow.enabled.is_(True))
        with self.session() as session:
            return [_record(r) for r in session.scalars(query)]

    def set_monitor_enabled(self, name: str, enabled: bool) -> None:
        """Pause or resume a monitor."""
        with self.session() as session:
            self._monitor_row(session, name).enabled = enabled

    def delete_monitor(self, name: str, *, purge_runs: bool = False) -> dict[str, int]:
        """Delete a monitor with its endpoints (and their deliveries), alert states, events,
        acknowledgements and detector state; its runs too with ``purge_runs``.

        Returns how many rows of each kind were deleted. Raises ``NotFoundError``
        (listing the known monitors) when ``name`` does not exist. A scheduler that
        still has the monitor drops it at its next reconcile.
        """
        from monitor.store.tables_alerts import (
            AlertEventRow,
            AlertHandlingRow,
            AlertStateRow,
            WebhookAttemptRow,
            WebhookDeliveryRow,
        )
        from monitor.store.tables_runs import DetectorStateRow, RunRow, SignalResultRow

        counts: dict[str, int] = {}
        with self.session() as session:
            row = self._monitor_row(session, name)
            endpoints = select(WebhookEndpointRow.id).where(WebhookEndpointRow.monitor == name)
            deliveries = select(WebhookDeliveryRow.id).where(
                WebhookDeliveryRow.endpoint_id.in_(endpoints)
            )
            steps: list[tuple[str, Any]] = [
                ("webhook_attempts", delete(WebhookAttemptRow).where(
                    WebhookAttemptRow.delivery_id.in_(deliveries))),
                ("webhook_deliveries", delete(WebhookDeliveryRow).where(
                    WebhookDeliveryRow.endpoint_id.in_(endpoints))),
                ("webhook_endpoints", delete(WebhookEndpointRow).where(
                    WebhookEndpointRow.monitor == name)),
                ("alert_states", delete(AlertStateRow).where(AlertStateRow.monitor == name)),
                ("alert_events", delete(AlertEventRow).where(AlertEventRow.monitor == name)),
                ("alert_handling", delete(AlertHandlingRow).where(AlertHandlingRow.monitor == name)),
                ("detector_states", delete(DetectorStateRow).where(DetectorStateRow.monitor == name)),
            ]  # fmt: skip
            if purge_runs:
                runs = select(RunRow.id).where(RunRow.monitor == name)
                steps += [
                    ("signal_results", delete(SignalResultRow).where(SignalResultRow.run_id.in_(runs))),
                    ("runs", delete(RunRow).where(RunRow.monitor == name)),
                ]  # fmt: skip
            for table, statement in steps:
                counts[table] = int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
            session.delete(row)
            counts["monitors"] = 1
        return counts

    def list_endpoints(self, monitor: str | None = None) -> list[EndpointRecord]:
        """Webhook endpoints (without secrets)."""
        query = select(WebhookEndpointRow).order_by(WebhookEndpointRow.id)
        if monitor is not None:
            query = query.where(WebhookEndpointRow.monitor == monitor)
        with self.session() as session:
            return [
                EndpointRecord(
                    id=e.id,
                    monitor=e.monitor,
                    url=e.url,
                    events=tuple(e.events),
                    timeout_s=e.timeout_s,
                    max_attempts=e.max_attempts,
                    enabled=e.enabled,
                )
                for e in session.scalars(query)
            ]

    def acquire_lease(
        self, name: str, owner: str, ttl: timedelta, *, now: datetime | None = None
    ) -> bool:
        """Take (or renew) the right to run ``name``; ``False`` when another owner holds it.

        One conditional ``UPDATE``, atomic on SQLite and PostgreSQL alike.
        """
        now = as_utc(now or utcnow())
        with self.session() as session:
            result = session.execute(
                update(MonitorRow)
                .where(
                    MonitorRow.name == name,
                    (MonitorRow.lease_owner.is_(None))
                    | (MonitorRow.lease_owner == owner)
                    | (MonitorRow.lease_expires < now),
                )
                .values(lease_owner=owner, lease_expires=now + ttl)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease back (no-op when ``owner`` does not hold it)."""
        with self.session() as session:
            session.execute(
                update(MonitorRow)
                .where(MonitorRow.name == name, MonitorRow.lease_owner == owner)
                .values(lease_owner=None, lease_expires=None)
            )

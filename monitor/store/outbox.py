"""The webhook outbox: claim due deliveries, record attempts, redeliver.

Claims lock the due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write
lock on SQLite) and lease them in one transaction, so several deliverers (or a
deliverer restarted after SIGKILL) never send one attempt twice at once; a
delivery whose lease expired mid-send is claimed again and counts as a retry.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from monitor.store.base import as_utc, utcnow
from monitor.store.records import DeliveryJob, DeliveryRecord
from monitor.store.session import StoreCore
from monitor.store.tables_alerts import WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow

DELIVERY_STATUSES: tuple[str, ...] = ("pending", "sending", "delivered", "dead")


def _due(now: datetime):  # type: ignore[no-untyped-def]
    d = WebhookDeliveryRow
    return or_(
        (d.status == "pending") & (d.next_attempt_at <= now),
        (d.status == "sending") & (d.lease_until < now),
    )


class OutboxStore(StoreCore):
    """Deliveries written by runs and consumed by the deliverer."""

    def claim_deliveries(
        self,
        *,
        limit: int = 10,
        lease: timedelta = timedelta(seconds=60),
        now: datetime | None = None,
        exclude_endpoints: Collection[int] = (),
        per_endpoint: int | None = None,
    ) -> list[DeliveryJob]:
        """Claim up to ``limit`` due deliveries for sending; each claim counts one attempt.

        ``exclude_endpoints`` skips endpoints the caller is busy with and
        ``per_endpoint`` caps the claims per endpoint, so one slow endpoint's
        backlog never takes every sending slot.
        """
        if limit <= 0:
            return []
        now = as_utc(now or utcnow())
        until = now + lease
        d, e = WebhookDeliveryRow, WebhookEndpointRow
        query = select(d.id, d.endpoint_id).where(_due(now))
        if exclude_endpoints:
            query = query.where(d.endpoint_id.not_in(list(exclude_endpoints)))
        scan = limit if per_endpoint is None else limit * 20
        with self.session() as session:
            candidates = session.execute(
                query.order_by(d.next_attempt_at, d.id).limit(scan).with_for_update(skip_locked=True)
            ).all()
            taken: dict[int, int] = {}
            ids = []
            for delivery_id, endpoint_id in candidates:
                if per_endpoint is not None and taken.get(endpoint_id, 0) >= per_endpoint:
                    continue
                taken[endpoint_id] = taken.get(endpoint_id, 0) + 1
                ids.append(delivery_id)
                if len(ids) >= limit:
                    break
            if not ids:
                return []
            session.execute(
                update(d)
                .where(d.id.in_(ids), _due(now))
                .values(status="sending", lease_until=until, attempts=d.attempts + 1)
            )
            rows = session.execute(
                select(d, e)
                .join(e, e.id == d.endpoint_id)
                .where(d.id.in_(ids), d.status == "sending", d.lease_until == until)
                .order_by(d.next_attempt_at, d.id)
            ).all()
            return [
                DeliveryJob(
                    id=delivery.id,
                    url=endpoint.url,
                    message_id=delivery.message_id,
                    event_type=delivery.event_type,
                    body=delivery.body,
                    attempt=delivery.attempts,
                    max_attempts=endpoint.max_attempts,
                    timeout_s=endpoint.timeout_s,
                    secret=endpoint.secret,
                    endpoint_id=endpoint.id,
                )
                for delivery, endpoint in rows
            ]

    def record_attempt(
        self,
        job: DeliveryJob,
        *,
        started_at: datetime,
        duration_s: float,
        status_code: int | None,
        error: str | None,
        delivered: bool,
        next_attempt_at: datetime | None,
    ) -> str:
        """Record one attempt and move the delivery on; returns its new status.

        Without ``next_attempt_at`` (or after the last attempt) a failure is
        dead-lettered. A stale claim (the lease was taken over) records the
        attempt but leaves the delivery to its new owner.
        """
        d = WebhookDeliveryRow
        if delivered:
            status = "delivered"
        elif job.attempt >= job.max_attempts or next_attempt_at is None:
            status = "dead"
        else:
            status = "pending"
        values: dict[str, object] = {"status": status, "lease_until": None, "last_error": error}
        if delivered:
            values["delivered_at"] = utcnow()
        if status == "pending" and next_attempt_at is not None:
            values["next_attempt_at"] = as_utc(next_attempt_at)
        with self.session() as session:
            session.add(
                WebhookAttemptRow(
                    delivery_id=job.id,
                    attempt=job.attempt,
                    started_at=as_utc(started_at),
                    duration_s=duration_s,
                    status_code=status_code,
                    error=error,
                )
            )
            session.execute(
                update(d)
                .where(d.id == job.id, d.status == "sending", d.attempts == job.attempt)
                .values(**values)
            )
        return status

    def list_deliveries(
        self, *, status: str | None = None, monitor: str | None = None, limit: int = 100
    ) -> list[DeliveryRecord]:
        """Deliveries, newest first."""
        d, e = WebhookDeliveryRow, WebhookEndpointRow
        query = select(d, e.url).join(e, e.id == d.endpoint_id).order_by(d.id.desc()).limit(limit)
        if status is not None:
            query = query.where(d.status == status)
        if monitor is not None:
            query = query.where(e.monitor == monitor)
        with self.session() as session:
            return [
                DeliveryRecord(
                    id=r.id,
                    endpoint_id=r.endpoint_id,
                    url=url,
                    message_id=r.message_id,
                    event_type=r.event_type,
                    run_id=r.run_id,
                    status=r.status,
                    attempts=r.attempts,
                    next_attempt_at=r.next_attempt_at,
                    last_error=r.last_error,
                    created_at=r.created_at,
                    delivered_at=r.delivered_at,
                )
                for r, url in session.execute(query)
            ]

    def list_attempts(self, delivery_id: int) -> list[tuple[int, int | None, str | None]]:
        """``(attempt, status code, error)`` of a delivery, in order."""
        a = WebhookAttemptRow
        with self.session() as session:
            rows = session.execute(
                select(a.attempt, a.status_code, a.error)
                .where(a.delivery_id == delivery_id)
                .order_by(a.id)
            ).all()
        return [(n, c, err) for n, c, err in rows]

    def redeliver(self, delivery_ids: Sequence[int] = (), *, all_dead: bool = False) -> int:
        """Queue deliveries again with a fresh attempt budget and the same ``webhook-id``.

        Returns
        -------
        int
            How many deliveries were queued.
        """
        d = WebhookDeliveryRow
        if not delivery_ids and not all_dead:
            return 0
        query = update(d).where(d.status.in_(("dead", "delivered")))
        if delivery_ids:
            query = query.where(d.id.in_(list(delivery_ids)))
        else:
            query = query.where(d.status == "dead")
        with self.session() as session:
            result = session.execute(
                query.values(
                    status="pending", attempts=0, next_attempt_at=utcnow(), lease_until=None
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def delivery_counts(self) -> dict[str, int]:
        """Number of deliveries per status (every status present, zeros included)."""
        d = WebhookDeliveryRow
        with self.session() as session:
            rows = session.execute(select(d.status, func.count(d.id)).group_by(d.status)).all()
        counts = dict.fromkeys(DELIVERY_STATUSES, 0)
        counts.update({s: int(n) for s, n in rows})
        return counts

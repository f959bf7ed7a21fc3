"""Acknowledge and silence alerts: what the on-call person did about a firing signal.

* **Acknowledge** says "someone is on it": it holds for the firing episode it
  was given in (the alert state's ``since``); when the alert resolves and fires
  again, the new episode is unacknowledged.
* **Silence** (with an expiry) says "do not page about this until …": while a
  signal is silenced its firing webhooks are not enqueued (the alert state and
  its events are still recorded, so the dashboard stays truthful).

>>> store = Store("sqlite:///:memory:")  # doctest: +SKIP
>>> store.silence_alert("credit-daily", "data_drift", until=tomorrow, by="ana")  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.errors import NotFoundError, SchemaError
from monitor.store.base import as_utc, utcnow
from monitor.store.records import AlertHandlingRecord
from monitor.store.session import StoreCore
from monitor.store.tables_alerts import AlertHandlingRow, AlertStateRow

#: The longest silence accepted: a forgotten silence must not mute a monitor for ever.
MAX_SILENCE = timedelta(days=90)


def _state(session: Session, monitor: str, signal: str) -> AlertStateRow:
    row = session.scalar(
        select(AlertStateRow).where(
            AlertStateRow.monitor == monitor, AlertStateRow.signal == signal
        )
    )
    if row is None:
        known = session.scalars(
            select(AlertStateRow.signal).where(AlertStateRow.monitor == monitor)
        ).all()
        hint = (
            f"signals with an alert state in {monitor!r}: {', '.join(sorted(known))}"
            if known
            else f"monitor {monitor!r} has no alert state yet (see 'raiwatch alerts list')"
        )
        raise NotFoundError(f"no alert for signal {signal!r} of monitor {monitor!r}; {hint}")
    return row


def _handling(session: Session, monitor: str, signal: str) -> AlertHandlingRow:
    row = session.scalar(
        select(AlertHandlingRow).where(
            AlertHandlingRow.monitor == monitor, AlertHandlingRow.signal == signal
        )
    )
    if row is None:
        row = AlertHandlingRow(monitor=monitor, signal=signal)
        session.add(row)
    return row


def _who(by: str) -> str:
    who = by.strip()
    if not who:
        raise SchemaError("'by' must name who acknowledges or silences the alert; got ''")
    return who[:128]


def to_handling_record(
    row: AlertHandlingRow, state: AlertStateRow | None, now: datetime
) -> AlertHandlingRecord:
    """The record of ``row`` as of ``now`` (see :class:`AlertHandlingRecord`)."""
    acknowledged = (
        state is not None
        and state.state == "firing"
        and row.acknowledged_episode is not None
        and as_utc(row.acknowledged_episode) == as_utc(state.since)
    )
    silenced = row.silenced_until is not None and as_utc(row.silenced_until) > now
    return AlertHandlingRecord(
        monitor=row.monitor,
        signal=row.signal,
        acknowledged=acknowledged,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        note=row.note,
        silenced=silenced,
        silenced_by=row.silenced_by,
        silenced_until=row.silenced_until,
        silence_reason=row.silence_reason,
    )


def silenced_signals(session: Session, monitor: str, now: datetime) -> set[str]:
    """Signals of ``monitor`` silenced at ``now`` (used when enqueueing webhooks)."""
    rows = session.scalars(
        select(AlertHandlingRow.signal).where(
            AlertHandlingRow.monitor == monitor, AlertHandlingRow.silenced_until > now
        )
    )
    return set(rows)


class AlertHandlingStore(StoreCore):
    """Acknowledgements and silences of alerts."""

    def acknowledge_alert(
        self, monitor: str, signal: str, *, by: str, note: str | None = None
    ) -> AlertHandlingRecord:
        """Acknowledge the firing alert of ``(monitor, signal)`` for its current episode.

        Raises
        ------
        NotFoundError
            The signal has no alert state.
        SchemaError
            The alert is not firing (there is nothing to acknowledge), or ``by`` is empty.
        """
        who = _who(by)
        now = utcnow()
        with self.session() as session:
            state = _state(session, monitor, signal)
            if state.state != "firing":
                raise SchemaError(
                    f"the alert of {signal!r} in monitor {monitor!r} is {state.state}, not firing; "
                    "only a firing alert can be acknowledged"
                )
            row = _handling(session, monitor, signal)
            row.acknowledged_by, row.acknowledged_at = who, now
            row.acknowledged_episode = state.since
            row.note = note
            session.flush()
            return to_handling_record(row, state, now)

    def silence_alert(
        self,
        monitor: str,
        signal: str,
        *,
        until: datetime,
        by: str,
        reason: str | None = None,
    ) -> AlertHandlingRecord:
        """Silence ``(monitor, signal)`` until ``until`` (UTC when naive).

        Raises
        ------
        NotFoundError
            The signal has no alert state.
        SchemaError
            ``until`` is not in the future or is more than :data:`MAX_SILENCE` ahead.
        """
        who = _who(by)
        now = utcnow()
        end = as_utc(until)
        if end <= now:
            raise SchemaError(
                f"a silence must end in the future; got until={end.isoformat()} "
                f"(now is {now.isoformat(timespec='seconds')})"
            )
        if end - now > MAX_SILENCE:
            raise SchemaError(
                f"a silence may last at most {MAX_SILENCE.days} days; got until={end.isoformat()}. "
                "Disable the monitor instead if it should stay quiet longer"
            )
        with self.session() as session:
            state = _state(session, monitor, signal)
            row = _handling(session, monitor, signal)
            row.silenced_by, row.silenced_until, row.silence_reason = who, end, reason
            session.flush()
            return to_handling_record(row, state, now)

    def unsilence_alert(self, monitor: str, signal: str) -> None:
        """End the silence of ``(monitor, signal)`` now (no-op when it is not silenced)."""
        with self.session() as session:
            _state(session, monitor, signal)
            row = _handling(session, monitor, signal)
            row.silenced_until = None

    def list_alert_handling(self, monitor: str | None = None) -> list[AlertHandlingRecord]:
        """Acknowledgements and silences, as of now."""
        now = utcnow()
        query = select(AlertHandlingRow, AlertStateRow).outerjoin(
            AlertStateRow,
            (AlertStateRow.monitor == AlertHandlingRow.monitor)
            & (AlertStateRow.signal == AlertHandlingRow.signal),
        )
        if monitor is not None:
            query = query.where(AlertHandlingRow.monitor == monitor)
        with self.session() as session:
            return [
                to_handling_record(row, state, now)
                for row, state in session.execute(query.order_by(AlertHandlingRow.id))
            ]

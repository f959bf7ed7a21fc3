"""The model lifecycle in the store: scheduled retraining, challenger verdicts, promotions.

Applied inside the run's transaction, after the alert states
(:func:`monitor.store.alerting.apply_alerts`):

* **Retraining on a schedule** (``retrain_every``): the monitor's clock starts at
  its ``start_at`` and is due at every period boundary ``start_at + k * every``
  (from the first boundary after the window that started the clock).
  The first run whose window ends at or after the boundary owed enqueues one
  ``model.retrain.requested`` with ``reason: schedule``; the clock then moves past
  that window's end. The clock is a row committed with the run, and the event id
  is derived from the boundary, so a restart, a re-run or a catch-up never sends
  a period twice. When the same window's alerts already requested retraining
  (``retrain_on``), that request stands for the period (recorded as
  ``last_reason: signals``) and no second request is sent.
* **Challenger verdicts**: when the ``challenger`` signal's verdict changes to
  ``better`` or ``worse``, ``model.challenger.better`` / ``.worse`` is enqueued
  (once per change, not every window).
* **Promotions**: ``promote_monitor`` switches a monitor's version to its
  challenger and records the promotion; past runs keep their version.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from monitor.alerting.policy import AlertPolicy
from monitor.errors import NotFoundError
from monitor.signals.results import SignalResult
from monitor.store.alerting import enqueue
from monitor.store.base import as_utc, utcnow
from monitor.store.events import (
    EVENT_CHALLENGER_BETTER,
    EVENT_CHALLENGER_WORSE,
    EVENT_RETRAIN,
    event_id,
    signal_entry,
)
from monitor.store.records import PromotionRecord, RetrainScheduleRecord
from monitor.store.session import StoreCore
from monitor.store.tables_alerts import AlertStateRow
from monitor.store.tables_lifecycle import ModelPromotionRow, RetrainScheduleRow
from monitor.store.tables_runs import DetectorStateRow, MonitorRow, RunRow

_VERDICT_EVENTS = {"better": EVENT_CHALLENGER_BETTER, "worse": EVENT_CHALLENGER_WORSE}


def apply_lifecycle(
    session: Session,
    run: RunRow,
    results: list[SignalResult],
    policy: AlertPolicy,
    enqueued: list[str],
) -> list[str]:
    """Scheduled retraining and challenger events for ``run``; returns the event types enqueued."""
    out = []
    if _apply_schedule(session, run, policy, alert_requested=EVENT_RETRAIN in enqueued):
        out.append(EVENT_RETRAIN)
    out += _apply_verdicts(session, run, results, policy)
    return out


def _apply_schedule(
    session: Session, run: RunRow, policy: AlertPolicy, *, alert_requested: bool
) -> bool:
    row = session.scalar(
        select(RetrainScheduleRow)
        .where(RetrainScheduleRow.monitor == run.monitor)
        .with_for_update()
    )
    every = policy.retrain_every
    if every is None:
        if row is not None:
            session.delete(row)
        return False
    if row is None:
        anchor = session.scalar(select(MonitorRow.start_at).where(MonitorRow.name == run.monitor))
        anchor = as_utc(anchor) if anchor is not None else run.window_start
        row = RetrainScheduleRow(
            monitor=run.monitor,
            every_s=every.total_seconds(),
            anchor=anchor,
            # the first boundary after this window's start: periods before the clock existed
            # (when the monitor had no retrain_every) are not owed
            next_due_at=anchor + max(1, int((run.window_start - anchor) / every) + 1) * every,
            requests=0,
        )
        session.add(row)
    elif row.every_s != every.total_seconds():  # the period changed: count it from the last request
        row.every_s = every.total_seconds()
        row.next_due_at = (row.last_due_at or row.anchor) + every
    if run.window_end < row.next_due_at:
        return False
    due = row.next_due_at
    nxt = due
    while nxt <= run.window_end:
        nxt += every
    row.next_due_at, row.last_due_at = nxt, due
    row.last_requested_at, row.last_run_id = run.window_end, run.id
    row.requests = (row.requests or 0) + 1
    if alert_requested:
        row.last_reason = "signals"
        return False
    row.last_reason = "schedule"
    schedule = {
        "every_s": every.total_seconds(),
        "due_at": due.isoformat(),
        "next_due_at": nxt.isoformat(),
    }
    enqueue(
        session, run, EVENT_RETRAIN, [], policy,
        evt=event_id(run.monitor, due, due, f"{EVENT_RETRAIN}#schedule"),
        extra={"reason": "schedule", "schedule": schedule},
    )  # fmt: skip
    return True


def _apply_verdicts(
    session: Session, run: RunRow, results: list[SignalResult], policy: AlertPolicy
) -> list[str]:
    out = []
    for r in results:
        if r.signal != "challenger":
            continue
        verdict, previous = r.details.get("verdict"), r.details.get("previous_verdict")
        if verdict not in _VERDICT_EVENTS or verdict == previous:
            continue
        evidence = {
            k: r.details.get(k)
            for k in ("interval", "n_pairs", "agreement", "e_better", "e_worse", "cumulative")
        }
        evidence.update(
            difference=r.to_dict()["value"],
            p_value=r.to_dict()["p_value"],
            alpha=r.to_dict()["alpha"],
        )
        entry = signal_entry(
            "challenger", r.status, str(verdict), str(previous), [r], only_breached=False
        )
        event_type = _VERDICT_EVENTS[str(verdict)]
        enqueue(
            session, run, event_type, [entry], policy,
            extra={"verdict": verdict, "previous_verdict": previous, "mode": r.details.get("mode"),
                   "challenger_version": r.details.get("challenger_version"), "evidence": evidence},
        )  # fmt: skip
        out.append(event_type)
    return out


def _schedule_record(row: RetrainScheduleRow) -> RetrainScheduleRecord:
    return RetrainScheduleRecord(
        monitor=row.monitor, every_s=row.every_s, next_due_at=row.next_due_at, last_due_at=row.last_due_at,
        last_requested_at=row.last_requested_at, last_reason=row.last_reason, requests=row.requests or 0,
    )  # fmt: skip


class LifecycleStore(StoreCore):
    """Read the retraining clock; promote a challenger."""

    def retrain_schedule(
        self, monitor: str, every: timedelta | None = None
    ) -> RetrainScheduleRecord | None:
        """The monitor's retraining clock.

        Before its first run the clock is not stored yet: with ``every`` (the
        spec's ``retrain_every``) the first due date is computed from ``start_at``.
        """
        with self.session() as session:
            row = session.scalar(
                select(RetrainScheduleRow).where(RetrainScheduleRow.monitor == monitor)
            )
            if row is not None:
                return _schedule_record(row)
            if every is None:
                return None
            start = session.scalar(select(MonitorRow.start_at).where(MonitorRow.name == monitor))
            if start is None:
                return None
            return RetrainScheduleRecord(
                monitor=monitor, every_s=every.total_seconds(), next_due_at=as_utc(start) + every
            )

    def promote_monitor(
        self,
        name: str,
        spec: dict[str, Any],
        *,
        from_version: str,
        to_version: str,
        evidence: dict[str, Any],
    ) -> PromotionRecord:
        """Make ``to_version`` the monitor's version in one transaction, keeping its history.

        ``spec`` is the new stored spec (without the challenger). The challenger's
        comparison state, the change detectors' state (calibrated on the old version's
        errors) and the ``challenger`` alert state are cleared; runs,
        results and alert history stay readable under the version they ran with.
        """
        now = utcnow()
        with self.session() as session:
            row = session.scalar(
                select(MonitorRow).where(MonitorRow.name == name).with_for_update()
            )
            if row is None:
                raise NotFoundError(
                    f"monitor {name!r} does not exist; list monitors with 'raiwatch monitor list'"
                )
            if row.model_version != from_version:
                raise ValueError(
                    f"monitor {name!r} runs version {row.model_version!r}, not {from_version!r}: it changed "
                    "meanwhile; run the command again"
                )
            row.model_version, row.spec, row.updated_at = to_version, spec, now
            # the comparison is over, and the change detectors were calibrated on the old
            # version's errors: both start afresh on the new champion's baseline
            for carried in ("challenger@%", "concept_drift@%"):
                session.execute(delete(DetectorStateRow).where(
                    DetectorStateRow.monitor == name, DetectorStateRow.detector.like(carried)))  # fmt: skip
            session.execute(
                delete(AlertStateRow).where(
                    AlertStateRow.monitor == name, AlertStateRow.signal == "challenger"
                )
            )
            session.add(ModelPromotionRow(monitor=name, from_version=from_version, to_version=to_version,
                                          promoted_at=now, evidence=evidence))  # fmt: skip
        return PromotionRecord(name, from_version, to_version, now, evidence)

    def list_promotions(self, monitor: str | None = None) -> list[PromotionRecord]:
        """Promotions, oldest first."""
        query = select(ModelPromotionRow).order_by(
            ModelPromotionRow.promoted_at, ModelPromotionRow.id
        )
        if monitor is not None:
            query = query.where(ModelPromotionRow.monitor == monitor)
        with self.session() as session:
            return [
                PromotionRecord(r.monitor, r.from_version, r.to_version, r.promoted_at, r.evidence)
                for r in session.scalars(query)
            ]

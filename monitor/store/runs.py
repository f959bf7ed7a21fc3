"""Runs and their signal results in the store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from monitor.alerting.policy import AlertPolicy
from monitor.errors import NotFoundError
from monitor.signals.results import SignalResult
from monitor.store.alerting import apply_alerts
from monitor.store.base import as_utc, utcnow
from monitor.store.lifecycle import apply_lifecycle
from monitor.store.records import RunRecord
from monitor.store.session import StoreCore
from monitor.store.tables_runs import MonitorRow, RunRow, SignalResultRow

# How a result was judged (its share of the budget, effect size, correction) is kept
# in the details document, so the table needs no column per judgement field.
_JUDGEMENT = "judgement"
_JUDGEMENT_FIELDS = ("alpha", "effect_size", "min_effect", "correction")


def _result_row(position: int, r: SignalResult) -> SignalResultRow:
    d = r.to_dict()
    return SignalResultRow(
        position=position,
        signal=r.signal,
        feature=r.feature,
        metric=r.metric,
        value=d["value"],
        threshold=d["threshold"],
        status=r.status,
        p_value=d["p_value"],
        statistic=d["statistic"],
        reference_size=r.reference_size,
        current_size=r.current_size,
        message=r.message,
        details={**d["details"], _JUDGEMENT: {k: d[k] for k in _JUDGEMENT_FIELDS}},  # strict JSON (no NaN)
        segment=r.segment,
    )


def _to_result(row: SignalResultRow) -> SignalResult:
    return SignalResult(
        signal=row.signal,
        feature=row.feature,
        metric=row.metric,
        value=row.value,
        threshold=row.threshold,
        status=row.status,  # type: ignore[arg-type]
        p_value=row.p_value,
        statistic=row.statistic,
        reference_size=row.reference_size,
        current_size=row.current_size,
        message=row.message,
        details={k: v for k, v in (row.details or {}).items() if k != _JUDGEMENT},
        segment=row.segment,
        **(row.details or {}).get(_JUDGEMENT, {}),
    )


def to_record(row: RunRow, *, with_results: bool = False) -> RunRecord:
    """A :class:`RunRecord` from a row (results only when loaded and asked for)."""
    return RunRecord(
        id=row.id,
        monitor=row.monitor,
        model_name=row.model_name,
        model_version=row.model_version,
        window_start=row.window_start,
        window_end=row.window_end,
        status=row.status,
        row_count=row.row_count,
        duration_s=row.duration_s,
        details=row.details,
        executions=row.executions,
        created_at=row.created_at,
        updated_at=row.updated_at,
        results=tuple(_to_result(r) for r in row.results) if with_results else (),
    )


class RunStore(StoreCore):
    """Save runs idempotently per (monitor, window) and read them back."""

    def save_run(
        self,
        monitor_name: str,
        name: str,
        version: str,
        window_start: datetime,
        window_end: datetime,
        status: str,
        results: list[SignalResult],
        row_count: int,
        duration_s: float,
        details: dict[str, Any],
        *,
        policy: AlertPolicy | None = None,
    ) -> int:
        """Store a run, replacing the results of an earlier run of the same window.

        With ``policy``, alert states move and webhook deliveries are enqueued in
        the same transaction. The monitor's catch-up cursor advances to
        ``window_end`` (never backwards).

        Returns
        -------
        int
            The run id (the same id when a window is run again).
        """
        start, end = as_utc(window_start), as_utc(window_end)
        if end <= start:
            raise ValueError(
                f"window_end ({end.isoformat()}) must be after window_start "
                f"({start.isoformat()}); a window is [start, end)"
            )
        for attempt in range(2):
            try:
                return self._save_run_once(
                    monitor_name, name, version, start, end, status, results,
                    row_count, duration_s, details, policy,
                )  # fmt: skip
            except IntegrityError:
                if attempt == 1:  # a concurrent writer inserted the same window: retry once
                    raise
        raise AssertionError("unreachable")

    def _save_run_once(
        self,
        monitor_name: str,
        name: str,
        version: str,
        start: datetime,
        end: datetime,
        status: str,
        results: list[SignalResult],
        row_count: int,
        duration_s: float,
        details: dict[str, Any],
        policy: AlertPolicy | None,
    ) -> int:
        now = utcnow()
        with self.session() as session:
            run = session.scalar(
                select(RunRow)
                .where(
                    RunRow.monitor == monitor_name,
                    RunRow.window_start == start,
                    RunRow.window_end == end,
                )
                .with_for_update()
            )
            if run is None:
                run = RunRow(monitor=monitor_name, window_start=start, window_end=end)
                run.executions, run.created_at = 1, now
                session.add(run)
            else:
                run.executions += 1
            run.model_name, run.model_version = name, version
            run.status, run.row_count, run.duration_s = status, row_count, duration_s
            run.details, run.updated_at = details, now
            run.results = [_result_row(i, r) for i, r in enumerate(results)]
            session.flush()
            if policy is not None:
                enqueued = apply_alerts(session, run, results, policy)
                apply_lifecycle(session, run, results, policy, enqueued)
            session.execute(
                update(MonitorRow)
                .where(
                    MonitorRow.name == monitor_name,
                    (MonitorRow.last_completed_end.is_(None))
                    | (MonitorRow.last_completed_end < end),
                )
                .values(last_completed_end=end)
            )
            return run.id

    def list_runs(
        self,
        name: str | None = None,
        version: str | None = None,
        monitor: str | None = None,
        limit: int = 100,
        *,
        since: datetime | None = None,
    ) -> list[RunRecord]:
        """Runs, newest window first, without their results."""
        query = select(RunRow).order_by(RunRow.window_end.desc(), RunRow.id.desc()).limit(limit)
        if name is not None:
            query = query.where(RunRow.model_name == name)
        if version is not None:
            query = query.where(RunRow.model_version == version)
        if monitor is not None:
            query = query.where(RunRow.monitor == monitor)
        if since is not None:
            query = query.where(RunRow.window_end > as_utc(since))
        with self.session() as session:
            return [to_record(r) for r in session.scalars(query)]

    def get_run(self, run_id: int) -> RunRecord:
        """One run with its results (``NotFoundError`` when unknown)."""
        with self.session() as session:
            row = session.scalar(
                select(RunRow).options(selectinload(RunRow.results)).where(RunRow.id == run_id)
            )
            if row is None:
                raise NotFoundError(
                    f"run {run_id} does not exist; list runs with 'raiwatch monitor list' "
                    "or GET /api/v1/runs"
                )
            return to_record(row, with_results=True)

    def latest_runs(self, *, with_data: bool = False) -> list[RunRecord]:
        """The newest-window run of every monitor, with results (for metrics).

        With ``with_data`` windows without rows (``no_data`` runs) are skipped: the
        newest run that had rows or failed, so an empty window does not hide the
        monitor's last evidence.
        """
        newest_query = select(RunRow.monitor, func.max(RunRow.window_end).label("end"))
        if with_data:
            newest_query = newest_query.where(RunRow.status != "no_data")
        newest = newest_query.group_by(RunRow.monitor).subquery()
        query = (
            select(RunRow)
            .join(
                newest, (RunRow.monitor == newest.c.monitor) & (RunRow.window_end == newest.c.end)
            )
            .options(selectinload(RunRow.results))
            .order_by(RunRow.monitor, RunRow.window_start.desc())
        )
        if with_data:  # an empty run may share the window end of one with data
            query = query.where(RunRow.status != "no_data")
        latest: dict[str, RunRecord] = {}
        with self.session() as session:
            for row in session.scalars(query):
                latest.setdefault(row.monitor, to_record(row, with_results=True))
        return list(latest.values())

    def count_runs(self, monitor: str | None = None) -> int:
        """How many runs are stored (for one monitor when given)."""
        query = select(func.count(RunRow.id))
        if monitor is not None:
            query = query.where(RunRow.monitor == monitor)
        with self.session() as session:
            return int(session.scalar(query) or 0)

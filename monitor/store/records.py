"""Plain, immutable records the store hands back (never live ORM rows).

Records carry no secrets: webhook signing keys and API keys stay inside the
store and the deliverer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.signals.results import SignalResult


@dataclass(frozen=True)
class RunRecord:
    """A stored run; ``results`` is filled by ``Store.get_run`` only."""

    id: int
    monitor: str
    model_name: str
    model_version: str
    window_start: datetime
    window_end: datetime
    status: str
    row_count: int
    duration_s: float
    details: dict[str, Any]
    executions: int
    created_at: datetime
    updated_at: datetime
    results: tuple[SignalResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able view (datetimes as ISO 8601)."""
        return {
            "id": self.id,
            "monitor": self.monitor,
            "model": self.model_name,
            "version": self.model_version,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "status": self.status,
            "row_count": self.row_count,
            "duration_s": self.duration_s,
            "details": self.details,
            "executions": self.executions,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "results": [r.to_dict() for r in self.results],
        }


@dataclass(frozen=True)
class MonitorRecord:
    """A declared monitor and its catch-up cursor."""

    name: str
    model_name: str
    model_version: str
    spec: dict[str, Any]
    enabled: bool
    start_at: datetime
    last_completed_end: datetime | None


@dataclass(frozen=True)
class AlertStateRecord:
    """Current alert state of one (monitor, signal)."""

    monitor: str
    signal: str
    state: str
    since: datetime
    last_window_end: datetime
    last_fired_at: datetime | None
    last_run_id: int | None


@dataclass(frozen=True)
class AlertHandlingRecord:
    """What a person did about one alert, as of ``now``.

    ``acknowledged`` is true only while the alert is still in the firing episode
    that was acknowledged; ``silenced`` only while ``silenced_until`` is ahead.
    """

    monitor: str
    signal: str
    acknowledged: bool
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    note: str | None
    silenced: bool
    silenced_by: str | None
    silenced_until: datetime | None
    silence_reason: str | None


@dataclass(frozen=True)
class AlertEventRecord:
    """One alert transition (``firing`` or ``resolved``)."""

    id: int
    monitor: str
    signal: str
    event: str
    run_id: int
    window_start: datetime
    window_end: datetime
    created_at: datetime


@dataclass(frozen=True)
class EndpointRecord:
    """A webhook endpoint, without its secret."""

    id: int
    monitor: str
    url: str
    events: tuple[str, ...]
    timeout_s: float
    max_attempts: int
    enabled: bool


@dataclass(frozen=True)
class DeliveryRecord:
    """An outbox row and where it stands."""

    id: int
    endpoint_id: int
    url: str
    message_id: str
    event_type: str
    run_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class DeliveryJob:
    """A claimed delivery, ready to send. ``secret`` is hidden from ``repr``."""

    id: int
    url: str
    message_id: str
    event_type: str
    body: str
    attempt: int
    max_attempts: int
    timeout_s: float
    secret: str = field(repr=False)
    endpoint_id: int = 0


@dataclass(frozen=True)
class ApiKeyRecord:
    """An API key's public facts (never the key or its hash)."""

    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    scopes: tuple[str, ...] = ("admin",)
    models: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ApiKeyGrant:
    """What a verified API key may do: its scopes and, optionally, the models it is limited to.

    ``admin`` includes ``ingest`` and ``read``; ``models`` is ``None`` for every model.

    >>> grant = ApiKeyGrant("ci", ("ingest",), ("credit",))
    >>> grant.allows("ingest"), grant.allows("read"), grant.may_use("credit"), grant.may_use("churn")
    (True, False, True, False)
    """

    name: str
    scopes: tuple[str, ...]
    models: tuple[str, ...] | None = None

    def allows(self, scope: str) -> bool:
        """Whether the key holds ``scope`` (``admin`` holds every scope)."""
        return scope in self.scopes or "admin" in self.scopes

    def may_use(self, model: str) -> bool:
        """Whether the key may touch model ``model``."""
        return self.models is None or model in self.models


@dataclass(frozen=True)
class RetrainScheduleRecord:
    """A monitor's ``retrain_every`` clock: when the next scheduled request is due."""

    monitor: str
    every_s: float
    next_due_at: datetime
    last_due_at: datetime | None = None
    last_requested_at: datetime | None = None
    last_reason: str | None = None
    requests: int = 0


@dataclass(frozen=True)
class PromotionRecord:
    """A challenger promoted to champion."""

    monitor: str
    from_version: str
    to_version: str
    promoted_at: datetime
    evidence: dict[str, Any]

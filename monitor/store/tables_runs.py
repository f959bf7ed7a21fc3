"""Tables for what is monitored and what runs produced.

``model_versions``, ``baselines`` (history kept, one active per version),
``monitors`` (declared spec + catch-up cursor + run lease), ``runs`` (unique per
monitor and window), ``signal_results`` and ``detector_states``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.store.base import Base, JSONDocument, UTCDateTime, utcnow


class ModelVersionRow(Base):
    """A registered model version; ``spec`` is ``ModelVersion.model_dump(mode="json")``."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(128))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BaselineRow(Base):
    """A baseline profile document and its Parquet reservoir sample."""

    __tablename__ = "baselines"
    __table_args__ = (
        Index(
            "uq_baselines_active",
            "model_version_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    sample: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MonitorRow(Base):
    """A declared monitor, its catch-up cursor and its single-runner lease."""

    __tablename__ = "monitors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(128))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_completed_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RunRow(Base):
    """One evaluation of a monitor over ``[window_start, window_end)``."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("monitor", "window_start", "window_end"),
        Index("ix_runs_model", "model_name", "model_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    monitor: Mapped[str] = mapped_column(String(128), index=True)
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(128))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(16))
    row_count: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    executions: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    results: Mapped[list[SignalResultRow]] = relationship(
        back_populates="run",
        cascade="all, delete-orphan",
        order_by="SignalResultRow.position",
        passive_deletes=True,
    )


class SignalResultRow(Base):
    """One :class:`~monitor.signals.results.SignalResult` of a run."""

    __tablename__ = "signal_results"
    __table_args__ = (
        Index("ix_signal_results_signal", "signal", "feature"),
        Index("ix_signal_results_segment", "segment"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    signal: Mapped[str] = mapped_column(String(64))
    feature: Mapped[str | None] = mapped_column(String(256), nullable=True)
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    p_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    statistic: Mapped[float | None] = mapped_column(Float, nullable=True)
    reference_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    current_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    # the segment judged (``region=EU``); None: the whole window
    segment: Mapped[str | None] = mapped_column(String(256), nullable=True)

    run: Mapped[RunRow] = relationship(back_populates="results")


class DetectorStateRow(Base):
    """JSON state of a streaming detector carried across runs of one monitor."""

    __tablename__ = "detector_states"
    __table_args__ = (UniqueConstraint("monitor", "detector"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    monitor: Mapped[str] = mapped_column(String(128))
    detector: Mapped[str] = mapped_column(String(128))
    state: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

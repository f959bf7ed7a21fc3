"""Tables of the model lifecycle: the retraining schedule and champion promotions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from monitor.store.base import Base, JSONDocument, UTCDateTime, utcnow


class RetrainScheduleRow(Base):
    """One monitor's ``retrain_every`` clock: the next period boundary owed a request."""

    __tablename__ = "retrain_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    monitor: Mapped[str] = mapped_column(String(128), unique=True)
    every_s: Mapped[float] = mapped_column(Float)
    anchor: Mapped[datetime] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ModelPromotionRow(Base):
    """A challenger made champion: which versions, when, and the verdict's evidence then."""

    __tablename__ = "model_promotions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    monitor: Mapped[str] = mapped_column(String(128), index=True)
    from_version: Mapped[str] = mapped_column(String(128))
    to_version: Mapped[str] = mapped_column(String(128))
    promoted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONDocument)

"""The window a run covers: a half-open interval ``[start, end)`` in UTC.

A :class:`Window` travels whole from the scheduler to the scan, the evaluation,
the stored run and the RAI review::

    >>> from datetime import datetime, UTC
    >>> w = Window(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))
    >>> w.duration.days, w.contains(datetime(2024, 1, 1, 12, tzinfo=UTC))
    (1, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.errors import SchemaError


@dataclass(frozen=True, order=True)
class Window:
    """A half-open interval ``[start, end)``; both ends timezone-aware, stored in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, datetime):
                raise SchemaError(f"Window.{name} must be a datetime; got {value!r}")
            if value.tzinfo is None:
                # Naive datetimes are read as UTC (the store keeps UTC everywhere).
                object.__setattr__(self, name, value.replace(tzinfo=UTC))
            else:
                object.__setattr__(self, name, value.astimezone(UTC))
        if self.end <= self.start:
            raise SchemaError(
                f"a window must end after it starts; got start={self.start.isoformat()} "
                f"end={self.end.isoformat()}; swap them or widen the window"
            )

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def contains(self, moment: datetime) -> bool:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return self.start <= moment < self.end

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

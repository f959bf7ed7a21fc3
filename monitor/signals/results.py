"""Signal results: the unit every monitor run stores, alerts on and shows.

A :class:`SignalResult` is one number for one signal (and one feature, where the
signal is per feature) with the threshold it was judged against and a status.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["ok", "warning", "alert", "error", "no_data"]
STATUSES: tuple[str, ...] = ("ok", "warning", "alert", "error", "no_data")

# Severity used to summarise many results into one badge.
_SEVERITY: dict[str, int] = {"no_data": 0, "ok": 1, "warning": 2, "alert": 3, "error": 4}


def worst_status(statuses: Sequence[str]) -> str:
    """The most severe status of a collection (``no_data`` when empty)."""
    if not statuses:
        return "no_data"
    return max(statuses, key=lambda s: _SEVERITY[s])


def _clean(value: float | None) -> float | None:
    # JSON has no NaN/inf: a non-finite value is stored as None with the status saying why.
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class SignalResult:
    """One evaluated check.

    Parameters
    ----------
    signal
        ``data_drift``, ``dataset_drift``, ``prediction_drift``, ``data_quality``,
        ``performance``, ``estimated_performance``, ``concept_drift``,
        ``multivariate_drift`` or ``attribution_drift``.
    feature
        The column judged, or ``None`` for a dataset-level result.
    metric
        Metric name, e.g. ``wasserstein``, ``ks``, ``null_rate``.
    value
        The value compared with ``threshold`` (a p-value for statistical tests).
    threshold
        The alert threshold in force for this result.
    status
        ``ok``, ``warning``, ``alert``, ``error`` or ``no_data``.
    """

    signal: str
    feature: str | None
    metric: str
    value: float | None
    threshold: float | None
    status: str
    p_value: float | None = None
    statistic: float | None = None
    reference_size: int | None = None
    current_size: int | None = None
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in _SEVERITY:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("value", "threshold", "p_value", "statistic"):
            d[k] = _clean(d[k])
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignalResult:
        return cls(**data)

"""Signal results: the unit every monitor run stores, alerts on and shows.

A :class:`SignalResult` is one judgement of one signal (and one feature, where
the signal is per feature): the value, the limit it was judged against, and
*why* — the p-value and the significance level it had to beat (its share of
the monitor's false-alarm budget), the effect size and the minimum effect that
makes a change worth paging, the multiple-testing correction, and the sizes::

    >>> r = SignalResult(signal="data_drift", feature="age", metric="ks", value=0.31,
    ...                  threshold=0.1, status="alert", p_value=1e-9, alpha=0.0025,
    ...                  effect_size=0.31, min_effect=0.1, correction="holm",
    ...                  reference_size=1000, current_size=1000)
    >>> SignalResult.from_dict(r.to_dict()) == r
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

Status = Literal["ok", "warning", "alert", "error", "no_data"]
STATUSES: tuple[str, ...] = get_args(Status)

# Severity used to summarise many results into one badge.
_SEVERITY: dict[str, int] = {"no_data": 0, "ok": 1, "warning": 2, "alert": 3, "error": 4}

_FLOATS = ("value", "threshold", "p_value", "statistic", "alpha", "effect_size", "min_effect")


def worst_status(statuses: Sequence[str]) -> str:
    """The most severe status of a collection (``no_data`` when empty)."""
    if not statuses:
        return "no_data"
    return max(statuses, key=lambda s: _SEVERITY[s])


def _clean_tree(value: Any) -> Any:
    """Details made strict-JSON: non-finite floats become None, NumPy scalars Python ones."""
    if isinstance(value, dict):
        return {str(k): _clean_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_tree(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def _clean(value: float | None) -> float | None:
    # JSON has no NaN/inf: a non-finite value is stored as None with the status saying why.
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True, kw_only=True)
class SignalResult:
    """One evaluated check.

    Parameters
    ----------
    signal
        A name of :data:`monitor.signals.SIGNALS`.
    feature
        The column judged, or ``None`` for a dataset-level result.
    metric
        Metric name, e.g. ``wasserstein``, ``ks``, ``null_rate``.
    value
        The value shown for the check (a distance, a rate, a metric).
    threshold
        The limit in force for ``value`` (for a test, the smallest effect that pages).
    status
        ``ok``, ``warning`` (significant but smaller than ``min_effect``, or an early
        limit), ``alert``, ``error`` or ``no_data``.
    p_value
        The test's p-value, or the share of the null distribution at or beyond the value.
    alpha
        The significance level this result had to beat (after ``correction``).
    effect_size
        The size of the change in the metric's own units.
    min_effect
        The smallest effect that pages.
    correction
        How ``alpha`` was corrected across features and signals (``holm``,
        ``benjamini-hochberg``, ``bonferroni`` or ``none``).
    segment
        The segment judged (``region=EU``, ``cohort=7``), or ``None`` for the whole window.
    """

    signal: str
    feature: str | None = None
    metric: str
    value: float | None
    threshold: float | None = None
    status: Status
    p_value: float | None = None
    statistic: float | None = None
    alpha: float | None = None
    effect_size: float | None = None
    min_effect: float | None = None
    correction: str | None = None
    reference_size: int | None = None
    current_size: int | None = None
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    segment: str | None = None

    def __post_init__(self) -> None:
        if self.status not in _SEVERITY:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in _FLOATS:
            d[k] = _clean(d[k])
        d["details"] = _clean_tree(d["details"])
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignalResult:
        return cls(**data)

    def replace(self, **changes: Any) -> SignalResult:
        """A copy with ``changes`` applied (results are immutable)."""
        return SignalResult(**{**self.__dict__, **changes})

"""Thresholds are objects: constant, or calibrated from the baseline's own variability.

A threshold knows its direction: distances drift *upwards* (alert when the
value is at or above the limit), p-values drift *downwards* (alert when the
value is below the limit). Calibrated thresholds are fitted on the scores of
baseline chunks, each chunk judged against the rest of the baseline
(leave-chunk-out), so the chunk is never part of its own reference::

    >>> t = StandardDeviationThreshold(k=3).fit([0.02, 0.03, 0.025, 0.03, 0.02])
    >>> round(t.limit, 4), t.classify(0.05)
    (0.04, 'alert')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from monitor.errors import NotFittedError, SchemaError

Direction = Literal["above", "below"]


@dataclass(frozen=True)
class ConstantThreshold:
    """A fixed limit; ``warning`` is an optional earlier limit in the same direction."""

    value: float
    direction: Direction = "above"
    warning: float | None = None
    kind: str = field(default="constant", init=False)

    @property
    def limit(self) -> float:
        return self.value

    def fit(self, scores: Sequence[float]) -> ConstantThreshold:
        return self

    def classify(self, value: float | None) -> str:
        return _classify(value, self.value, self.warning, self.direction)


@dataclass(frozen=True)
class StandardDeviationThreshold:
    """``mean + k·σ`` (or ``mean − k·σ`` for ``below``) of baseline chunk scores."""

    k: float = 3.0
    direction: Direction = "above"
    warning_k: float | None = None
    floor: float | None = None  # never tighter than this (e.g. a minimum distance)
    limit_: float | None = None
    warning_: float | None = None
    kind: str = field(default="std", init=False)

    @property
    def limit(self) -> float:
        if self.limit_ is None:
            raise NotFittedError("StandardDeviationThreshold is not fitted; call fit(scores) first")
        return self.limit_

    def fit(self, scores: Sequence[float]) -> StandardDeviationThreshold:
        s = _finite(scores)
        sign = 1.0 if self.direction == "above" else -1.0
        mean, sd = float(s.mean()), float(s.std(ddof=1)) if len(s) > 1 else 0.0
        limit = mean + sign * self.k * sd
        if self.floor is not None:
            limit = max(limit, self.floor) if sign > 0 else min(limit, self.floor)
        warn = None if self.warning_k is None else mean + sign * self.warning_k * sd
        return replace(self, limit_=limit, warning_=warn)

    def classify(self, value: float | None) -> str:
        return _classify(value, self.limit, self.warning_, self.direction)


@dataclass(frozen=True)
class QuantileThreshold:
    """The ``q`` quantile of baseline chunk scores (``1 − q`` for ``below``)."""

    q: float = 0.99
    direction: Direction = "above"
    limit_: float | None = None
    kind: str = field(default="quantile", init=False)

    @property
    def limit(self) -> float:
        if self.limit_ is None:
            raise NotFittedError("QuantileThreshold is not fitted; call fit(scores) first")
        return self.limit_

    def fit(self, scores: Sequence[float]) -> QuantileThreshold:
        q = self.q if self.direction == "above" else 1.0 - self.q
        return replace(self, limit_=float(np.quantile(_finite(scores), q)))

    def classify(self, value: float | None) -> str:
        return _classify(value, self.limit, None, self.direction)


Threshold = ConstantThreshold | StandardDeviationThreshold | QuantileThreshold


def _finite(scores: Sequence[float]) -> np.ndarray:
    s = np.asarray([x for x in scores if x is not None], dtype=np.float64)
    s = s[np.isfinite(s)]
    if len(s) == 0:
        raise ValueError(
            "cannot calibrate a threshold: the baseline gave no finite chunk scores; "
            "use a constant threshold or a larger baseline"
        )
    return s


def _classify(value: float | None, limit: float, warning: float | None, direction: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no_data"
    if direction == "above":
        if value >= limit:
            return "alert"
        return "warning" if warning is not None and value >= warning else "ok"
    if value < limit:
        return "alert"
    return "warning" if warning is not None and value < warning else "ok"


class ThresholdSpec(BaseModel):
    """How a threshold is declared in YAML.

    ``{type: constant, value: 0.1}``, ``{type: std, k: 3}`` or ``{type: quantile, q: 0.99}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["constant", "std", "quantile"] = "constant"
    value: float | None = None
    warning: float | None = None
    k: float = Field(default=3.0, gt=0)
    q: float = Field(default=0.99, gt=0, lt=1)

    def build(self, direction: Direction, default: float) -> Threshold:
        if self.type == "constant":
            return ConstantThreshold(default if self.value is None else self.value, direction, self.warning)
        if self.type == "std":
            return StandardDeviationThreshold(k=self.k, direction=direction)
        return QuantileThreshold(q=self.q, direction=direction)


def leave_chunk_out_scores(
    chunks: Sequence[Any], score: Callable[[Any, Any], float | None], merge: Callable[[Any, Any], Any]
) -> list[float]:
    """Score each chunk against the merge of all *other* chunks.

    Parameters
    ----------
    chunks
        Baseline chunk profiles (at least 2).
    score
        ``score(reference, chunk)`` for one metric.
    merge
        How two chunks combine into one reference.
    """
    if len(chunks) < 2:
        raise SchemaError(
            "a calibrated threshold needs a baseline stored with at least 2 chunks; "
            "rebuild the baseline from at least 200 rows or use a constant threshold"
        )
    out: list[float] = []
    for i, chunk in enumerate(chunks):
        others = [c for j, c in enumerate(chunks) if j != i]
        rest = others[0]
        for c in others[1:]:
            rest = merge(rest, c)
        value = score(rest, chunk)
        if value is not None:
            out.append(float(value))
    return out

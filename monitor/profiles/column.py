"""Mergeable column profiles: the summary every signal is computed from.

A profile holds counts, nulls, type errors, non-finite and out-of-range counts,
min/max, mergeable moments (Chan et al.), a histogram on edges fixed by the
baseline, and category counts (top-K + other). ``a.merge(b)`` is the profile of
the concatenated data, so partitions, batches or Spark tasks can be profiled
separately and combined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from monitor.metrics._types import Histogram


@dataclass
class NumericProfile:
    """Summary of a numeric (or datetime, as epoch seconds) column."""

    edges: np.ndarray | None = None
    count: int = 0
    nulls: int = 0
    type_errors: int = 0
    infinities: int = 0
    out_of_range: int = 0
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    min: float = math.inf
    max: float = -math.inf
    counts: np.ndarray | None = None
    under_count: int = 0
    under_sum: float = 0.0
    over_count: int = 0
    over_sum: float = 0.0
    sums: np.ndarray | None = None
    kind: str = field(default="numeric", init=False)

    def __post_init__(self) -> None:
        if self.edges is not None and self.counts is None:
            self.counts = np.zeros(len(self.edges) - 1, dtype=np.int64)
        if self.edges is not None and self.sums is None:
            self.sums = np.zeros(len(self.edges) - 1, dtype=np.float64)

    @property
    def variance(self) -> float:
        """Population variance (ddof=0) of the finite values."""
        return self.m2 / self.n if self.n else math.nan

    @property
    def std(self) -> float:
        return math.sqrt(self.variance) if self.n else math.nan

    def update(
        self,
        values: np.ndarray,
        type_errors: np.ndarray | None = None,
        value_range: tuple[float, float] | None = None,
    ) -> None:
        """Add a batch of float64 values (NaN = null or type error)."""
        nan = np.isnan(values)
        n_te = int(type_errors.sum()) if type_errors is not None else 0
        self.count += len(values)
        self.type_errors += n_te
        self.nulls += int(nan.sum()) - n_te
        finite_mask = ~nan
        x = values[finite_mask] if nan.any() else values
        inf = np.isinf(x)
        if inf.any():
            self.infinities += int(inf.sum())
            x = x[~inf]
        if len(x) == 0:
            return
        # Sorting once is faster than binary-searching every value (cache friendly) and
        # gives min, max, range counts and histogram counts from a few lookups.
        x = np.sort(x)
        lo, hi = float(x[0]), float(x[-1])
        if value_range is not None:
            below = int(np.searchsorted(x, value_range[0], side="left"))
            above = len(x) - int(np.searchsorted(x, value_range[1], side="right"))
            self.out_of_range += below + above
        if lo == hi:  # constant batch: exact mean, zero spread (x.mean() may round off)
            self._add_moments(len(x), lo, 0.0)
        else:
            mean_b = float(x.mean())
            self._add_moments(len(x), mean_b, float(np.square(x - mean_b).sum()))
        self.min = min(self.min, lo)
        self.max = max(self.max, hi)
        if self.edges is not None and self.counts is not None:
            e = self.edges
            # positions of the edges in x: bin i holds x in [e[i], e[i+1]), the last bin is closed
            pos = np.searchsorted(x, e, side="left")
            pos[-1] = np.searchsorted(x, e[-1], side="right")
            self.counts += np.diff(pos)
            if self.sums is not None:
                cum = np.concatenate(([0.0], np.cumsum(x)))
                self.sums += cum[pos[1:]] - cum[pos[:-1]]
            if pos[0] > 0:
                self.under_count += int(pos[0])
                self.under_sum += float(x[: pos[0]].sum())
            if pos[-1] < len(x):
                self.over_count += int(len(x) - pos[-1])
                self.over_sum += float(x[pos[-1] :].sum())

    def _add_moments(self, n_b: int, mean_b: float, m2_b: float) -> None:
        n_a = self.n
        n = n_a + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * n_b / n
        self.m2 = self.m2 + m2_b + delta * delta * n_a * n_b / n
        self.n = n

    def merge(self, other: NumericProfile) -> NumericProfile:
        if (self.edges is None) != (other.edges is None) or (
            self.edges is not None
            and other.edges is not None
            and not np.array_equal(self.edges, other.edges)
        ):
            raise ValueError("cannot merge numeric profiles built on different histogram edges")
        out = NumericProfile(edges=self.edges)
        for name in ("count", "nulls", "type_errors", "infinities", "out_of_range"):
            setattr(out, name, getattr(self, name) + getattr(other, name))
        out.n, out.mean, out.m2 = self.n, self.mean, self.m2
        if other.n:
            out._add_moments(other.n, other.mean, other.m2)
        out.min, out.max = min(self.min, other.min), max(self.max, other.max)
        if self.counts is not None and other.counts is not None:
            out.counts = self.counts + other.counts
        if self.sums is not None and other.sums is not None:
            out.sums = self.sums + other.sums
        out.under_count = self.under_count + other.under_count
        out.under_sum = self.under_sum + other.under_sum
        out.over_count = self.over_count + other.over_count
        out.over_sum = self.over_sum + other.over_sum
        return out

    def histogram(self) -> Histogram | None:
        if self.edges is None or self.counts is None:
            return None
        return Histogram(
            self.edges, self.counts, self.under_count, self.under_sum, self.over_count,
            self.over_sum, self.sums,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in _NUM_SCALARS}
        d["min"] = None if math.isinf(self.min) else self.min
        d["max"] = None if math.isinf(self.max) else self.max
        d["edges"] = None if self.edges is None else self.edges.tolist()
        d["counts"] = None if self.counts is None else self.counts.tolist()
        d["sums"] = None if self.sums is None else self.sums.tolist()
        d["kind"] = "numeric"
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NumericProfile:
        edges = None if d.get("edges") is None else np.asarray(d["edges"], dtype=np.float64)
        out = cls(edges=edges)
        for k in _NUM_SCALARS:
            setattr(out, k, d[k])
        out.min = math.inf if d.get("min") is None else d["min"]
        out.max = -math.inf if d.get("max") is None else d["max"]
        if d.get("counts") is not None:
            out.counts = np.asarray(d["counts"], dtype=np.int64)
        out.sums = None if d.get("sums") is None else np.asarray(d["sums"], dtype=np.float64)
        return out


_NUM_SCALARS = (
    "count", "nulls", "type_errors", "infinities", "out_of_range", "n", "mean", "m2",
    "under_count", "under_sum", "over_count", "over_sum",
)  # fmt: skip


@dataclass
class CategoricalProfile:
    """Summary of a categorical or boolean column: top-K category counts + other.

    Counts are exact while the number of distinct values stays under
    ``prune_at``; beyond it the rarest categories are folded into ``other``
    (bounded memory for columns with millions of distinct values).
    """

    top_k: int = 1000
    count: int = 0
    nulls: int = 0
    type_errors: int = 0
    unseen: int = 0
    other: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    kind: str = field(default="categorical", init=False)

    @property
    def prune_at(self) -> int:
        return 10 * self.top_k

    def update(
        self,
        values: pa.Array,
        type_errors: np.ndarray | None = None,
        known: frozenset[str] | None = None,
    ) -> None:
        n_te = int(type_errors.sum()) if type_errors is not None else 0
        self.count += len(values)
        self.type_errors += n_te
        self.nulls += values.null_count - n_te
        if values.null_count == len(values):
            return
        vc = pc.value_counts(values.drop_null())
        keys = vc.field("values")
        if pa.types.is_dictionary(keys.type):
            keys = keys.cast(keys.type.value_type)
        counts = self.counts
        for k, c in zip(keys.to_pylist(), vc.field("counts").to_pylist(), strict=True):
            counts[k] = counts.get(k, 0) + c
            if known is not None and k not in known:
                self.unseen += c
        if len(counts) > self.prune_at:
            self._prune()

    def _prune(self) -> None:
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        self.other += sum(c for _, c in ranked[self.top_k :])
        self.counts = dict(ranked[: self.top_k])

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        out = CategoricalProfile(top_k=self.top_k)
        for name in ("count", "nulls", "type_errors", "unseen", "other"):
            setattr(out, name, getattr(self, name) + getattr(other, name))
        merged = dict(self.counts)
        for k, c in other.counts.items():
            merged[k] = merged.get(k, 0) + c
        out.counts = merged
        if len(merged) > out.prune_at:
            out._prune()
        return out

    @property
    def n(self) -> int:
        """Number of non-null values."""
        return sum(self.counts.values()) + self.other

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {k: getattr(self, k) for k in _CAT_SCALARS}
        d["counts"] = dict(sorted(self.counts.items()))
        d["kind"] = "categorical"
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CategoricalProfile:
        out = cls(top_k=d["top_k"], counts=dict(d["counts"]))
        for k in _CAT_SCALARS:
            setattr(out, k, d[k])
        return out


_CAT_SCALARS = ("top_k", "count", "nulls", "type_errors", "unseen", "other")

ColumnProfile = NumericProfile | CategoricalProfile


def column_from_dict(d: dict[str, Any]) -> ColumnProfile:
    if d["kind"] == "numeric":
        return NumericProfile.from_dict(d)
    return CategoricalProfile.from_dict(d)

"""The two value types of the metrics package: a binned numeric column and a metric result."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.errors import DataError


def _readonly(array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    array = array.copy()
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Histogram:
    """Counts of one numeric column on bin edges fixed by the baseline.

    The arrays are copied and made read-only on construction, so a histogram
    never changes after it is built. Equality is identity (``eq=False``): numpy
    arrays have no single truth value.

    Parameters
    ----------
    edges
        Float64, shape ``(B+1,)``, strictly increasing and finite, ``B >= 1``.
    counts
        Int64, shape ``(B,)``: ``counts[i]`` values lie in ``[edges[i], edges[i+1])``;
        the last bin is closed ``[edges[B-1], edges[B]]`` (``np.histogram``'s rule).
    under_count, under_sum
        Number and sum of the values ``< edges[0]``.
    over_count, over_sum
        Number and sum of the values ``> edges[-1]``.
    sums
        Optional float64, shape ``(B,)``: the sum of the values in each bin. With it
        the Wasserstein distance is exact in every bin where the two CDFs do not
        cross (see :func:`wasserstein_distance_binned`).

    Examples
    --------
    >>> h = Histogram(np.array([0.0, 1.0, 2.0]), np.array([3, 1]), over_count=1, over_sum=5.0)
    >>> h.total
    5
    """

    edges: npt.NDArray[np.float64]
    counts: npt.NDArray[np.int64]
    under_count: int = 0
    under_sum: float = 0.0
    over_count: int = 0
    over_sum: float = 0.0
    sums: npt.NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges, dtype=np.float64)
        counts_in = np.asarray(self.counts)
        if edges.ndim != 1 or edges.size < 2:
            raise DataError(
                f"Histogram edges must be a 1-D array of at least 2 values; got shape {edges.shape}."
            )
        if not np.all(np.isfinite(edges)):
            raise DataError("Histogram edges must be finite; got NaN or inf.")
        if not np.all(np.diff(edges) > 0):
            raise DataError("Histogram edges must be strictly increasing.")
        if counts_in.shape != (edges.size - 1,):
            raise DataError(
                f"Histogram counts must have shape ({edges.size - 1},) for {edges.size} edges; "
                f"got {counts_in.shape}."
            )
        if counts_in.size and not np.all(counts_in == np.round(counts_in)):
            raise DataError("Histogram counts must be whole numbers.")
        counts = counts_in.astype(np.int64)
        if np.any(counts < 0):
            raise DataError("Histogram counts must be >= 0; got a negative count.")
        for name in ("under", "over"):
            count = getattr(self, f"{name}_count")
            total = getattr(self, f"{name}_sum")
            if int(count) != count or count < 0:
                raise DataError(f"Histogram {name}_count must be an integer >= 0; got {count!r}.")
            if not math.isfinite(total):
                raise DataError(f"Histogram {name}_sum must be finite; got {total!r}.")
            if count == 0 and total != 0:
                raise DataError(f"Histogram {name}_sum must be 0 when {name}_count is 0.")
            object.__setattr__(self, f"{name}_count", int(count))
            object.__setattr__(self, f"{name}_sum", float(total))
        object.__setattr__(self, "edges", _readonly(edges))
        object.__setattr__(self, "counts", _readonly(counts))
        if self.sums is not None:
            sums = np.asarray(self.sums, dtype=np.float64)
            if sums.shape != counts.shape or not np.all(np.isfinite(sums)):
                raise DataError(
                    f"Histogram sums must be finite with shape {counts.shape}; got {sums.shape}."
                )
            object.__setattr__(self, "sums", _readonly(sums))

    @property
    def n_bins(self) -> int:
        """Number of bins between the edges (``B``)."""
        return int(self.counts.size)

    @property
    def total(self) -> int:
        """Number of values: in the bins plus both tails."""
        return int(self.counts.sum()) + self.under_count + self.over_count

    def cdf_at_edges(self) -> npt.NDArray[np.float64]:
        """Fraction of the values below each edge, shape ``(B+1,)``.

        Entry ``k < B`` is the fraction ``< edges[k]``; entry ``B`` the fraction
        ``<= edges[B]`` (the last bin is closed). These are values of the empirical
        CDF, so a statistic read off them never exceeds its exact counterpart.
        """
        if self.total == 0:
            raise DataError("Histogram is empty (total 0): its CDF is undefined.")
        below = np.concatenate(([self.under_count], self.under_count + np.cumsum(self.counts)))
        return below / self.total


@dataclass(frozen=True)
class MetricResult:
    """The outcome of one metric on one reference/current pair.

    Parameters
    ----------
    metric
        Registry name, e.g. ``"wasserstein"``.
    statistic
        The test statistic or the distance. May be ``inf`` where a function documents it.
    p_value
        The p-value for statistical tests, ``None`` for distances.
    """

    metric: str
    statistic: float
    p_value: float | None

    @property
    def is_test(self) -> bool:
        """Whether the result comes from a statistical test (it has a p-value)."""
        return self.p_value is not None

    @property
    def score(self) -> float:
        """What a threshold compares: the p-value of a test, else the statistic.

        Tests signal drift when the score is *below* the threshold, distances
        when it is *at or above* it.
        """
        return self.p_value if self.p_value is not None else self.statistic

"""Distances between two distributions given as aligned count vectors.

One engine for binned numeric columns, categorical columns and samples: each
caller reduces its input to two count vectors over the same cells and calls
:func:`distance_from_counts`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.special import rel_entr

from monitor.errors import DataError
from monitor.metrics._types import MetricResult

FloatArray = npt.NDArray[np.float64]
DistanceName = Literal["psi", "jensenshannon", "hellinger", "l_infinity"]

#: Share put in place of an empty cell before PSI takes a logarithm (as Evidently does).
PSI_EMPTY_SHARE = 1e-4


def _psi(p: FloatArray, q: FloatArray) -> float:
    p = np.where(p == 0, PSI_EMPTY_SHARE, p)
    q = np.where(q == 0, PSI_EMPTY_SHARE, q)
    return float(np.sum((p - q) * np.log(p / q)))


def _jensenshannon(p: FloatArray, q: FloatArray) -> float:
    m = (p + q) / 2
    divergence = (np.sum(rel_entr(p, m)) + np.sum(rel_entr(q, m))) / 2
    return float(np.sqrt(max(divergence, 0.0)))


def _hellinger(p: FloatArray, q: FloatArray) -> float:
    return float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2))


def _l_infinity(p: FloatArray, q: FloatArray) -> float:
    return float(np.max(np.abs(p - q)))


_DISTANCES: dict[str, Callable[[FloatArray, FloatArray], float]] = {
    "psi": _psi,
    "jensenshannon": _jensenshannon,
    "hellinger": _hellinger,
    "l_infinity": _l_infinity,
}


def check_n_bins(n_bins: int) -> None:
    """Raise :class:`DataError` unless ``n_bins`` is an integer ``>= 2``."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 2:
        raise DataError(f"n_bins must be an integer >= 2; got {n_bins!r}.")


def shares(counts: npt.ArrayLike, *, side: str) -> FloatArray:
    """Counts divided by their total; raise :class:`DataError` when there is nothing to divide.

    Parameters
    ----------
    counts
        Non-negative counts.
    side
        ``"ref"`` or ``"cur"``, named in the error message.
    """
    values = np.asarray(counts, dtype=np.float64)
    if np.any(~np.isfinite(values)) or np.any(values < 0):
        raise DataError(f"The {side} counts must be finite and >= 0; got {values!r}.")
    total = values.sum()
    if total <= 0:
        raise DataError(
            f"The {side} distribution is empty (total count 0): a drift metric needs at "
            "least one value on each side."
        )
    return values / total


def distance_from_counts(
    name: DistanceName, ref: npt.ArrayLike, cur: npt.ArrayLike
) -> MetricResult:
    """Compute a distance between two count vectors over the same cells.

    Parameters
    ----------
    name
        ``psi``: sum of ``(p - q) * ln(p / q)`` with empty cells set to
        :data:`PSI_EMPTY_SHARE` first; ``jensenshannon``: the Jensen-Shannon
        *distance* with natural logarithms, in ``[0, sqrt(ln 2)]``, equal to
        ``scipy.spatial.distance.jensenshannon(p, q)``; ``hellinger``:
        ``sqrt(sum((sqrt p - sqrt q)^2) / 2)``, in ``[0, 1]``; ``l_infinity``:
        ``max |p - q|``, in ``[0, 1]``.
    ref, cur
        Non-negative counts of the same length; each must have a positive total.

    Returns
    -------
    MetricResult
        With ``p_value=None``.

    Examples
    --------
    >>> distance_from_counts("l_infinity", [3, 1], [1, 3]).statistic
    0.5
    """
    p = shares(ref, side="ref")
    q = shares(cur, side="cur")
    if p.shape != q.shape:
        raise DataError(f"ref and cur counts must be aligned; got shapes {p.shape} and {q.shape}.")
    return MetricResult(metric=name, statistic=_DISTANCES[name](p, q), p_value=None)

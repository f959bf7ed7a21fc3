"""Share-based drift metrics on binned numeric columns: PSI, Jensen-Shannon, Hellinger, L-infinity.

These compare bin *shares*, so their value depends on the binning. The baseline's
fine edges are quantiles (1000 bins), far too fine for shares: with a window of a
few hundred rows most fine bins would be empty and every distance would look
large. So the fine bins are first grouped into ``n_bins`` coarse bins of about
equal reference mass -- deciles by default, NannyML's and the usual PSI
practice -- and the distance is taken on those. Under/overflow values go to the
outer coarse bins.

Every group holds about ``1/n_bins`` of the reference, and fine bins without
reference mass join a neighbouring group, so a window moved entirely off the
reference support still shares its group with reference mass: the distances
stay below their maxima (e.g. L-infinity at most ``1 - 1/n_bins``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from monitor.metrics._divergences import DistanceName, check_n_bins, distance_from_counts
from monitor.metrics._numeric import check_histogram_pair
from monitor.metrics._types import Histogram, MetricResult

DEFAULT_GROUPS = 10


def group_by_reference_mass(
    ref: Histogram, cur: Histogram, *, n_bins: int = DEFAULT_GROUPS
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Merge consecutive fine bins into ``n_bins`` groups of about equal reference mass.

    Group ``j`` ends at the first fine edge below which at least ``j / n_bins`` of
    the reference lies (integer arithmetic, so quantile edges split exactly).
    Fewer groups come back when the reference mass is too lumpy or there are
    fewer fine bins than ``n_bins``.

    Parameters
    ----------
    ref, cur
        Non-empty histograms on the same edges.
    n_bins
        Wanted number of groups, ``>= 2``.

    Returns
    -------
    edges : ndarray
        The coarse edges, a subset of the fine edges, first and last included.
    ref_counts, cur_counts : ndarray
        Counts per group; the first group also holds the underflow, the last the overflow.

    Examples
    --------
    >>> fine = Histogram(np.arange(5.0), np.array([1, 1, 1, 1]))
    >>> group_by_reference_mass(fine, fine, n_bins=2)[1]
    array([2, 2])
    """
    check_histogram_pair(ref, cur)
    check_n_bins(n_bins)
    below = ref.under_count + np.concatenate(([0], np.cumsum(ref.counts)))
    targets = np.arange(1, n_bins) * ref.total
    cuts = np.searchsorted(below * n_bins, targets, side="left")
    cuts = np.unique(np.clip(cuts, 1, max(ref.n_bins - 1, 1)))
    cuts = cuts[cuts < ref.n_bins]
    starts = np.concatenate(([0], cuts)).astype(np.intp)
    edges = np.concatenate((ref.edges[starts], ref.edges[-1:]))
    grouped = []
    for hist in (ref, cur):
        counts = np.add.reduceat(hist.counts, starts).astype(np.int64)
        counts[0] += hist.under_count
        counts[-1] += hist.over_count
        grouped.append(counts)
    return edges, grouped[0], grouped[1]


def _grouped_distance(
    name: DistanceName, ref: Histogram, cur: Histogram, n_bins: int
) -> MetricResult:
    _, ref_counts, cur_counts = group_by_reference_mass(ref, cur, n_bins=n_bins)
    return distance_from_counts(name, ref_counts, cur_counts)


def psi_binned(ref: Histogram, cur: Histogram, *, n_bins: int = DEFAULT_GROUPS) -> MetricResult:
    """Population Stability Index on ``n_bins`` reference-mass groups.

    ``sum((p - q) * ln(p / q))`` where an empty group's share is replaced by
    ``1e-4`` (as Evidently does) so the logarithm stays finite.

    Parameters
    ----------
    ref, cur
        Non-empty histograms on the same edges.
    n_bins
        Number of groups (see :func:`group_by_reference_mass`).

    Returns
    -------
    MetricResult
        ``metric="psi"``, ``p_value=None``.
    """
    return _grouped_distance("psi", ref, cur, n_bins)


def jensenshannon_binned(
    ref: Histogram, cur: Histogram, *, n_bins: int = DEFAULT_GROUPS
) -> MetricResult:
    """Jensen-Shannon distance (natural log, in ``[0, sqrt(ln 2)]``) on reference-mass groups.

    Equal to ``scipy.spatial.distance.jensenshannon(p, q)`` on the group shares.

    Parameters
    ----------
    ref, cur
        Non-empty histograms on the same edges.
    n_bins
        Number of groups (see :func:`group_by_reference_mass`).

    Returns
    -------
    MetricResult
        ``metric="jensenshannon"``, ``p_value=None``.
    """
    return _grouped_distance("jensenshannon", ref, cur, n_bins)


def hellinger_binned(
    ref: Histogram, cur: Histogram, *, n_bins: int = DEFAULT_GROUPS
) -> MetricResult:
    """Hellinger distance ``sqrt(sum((sqrt p - sqrt q)^2) / 2)``, in ``[0, 1]``, on groups.

    Parameters
    ----------
    ref, cur
        Non-empty histograms on the same edges.
    n_bins
        Number of groups (see :func:`group_by_reference_mass`).

    Returns
    -------
    MetricResult
        ``metric="hellinger"``, ``p_value=None``.
    """
    return _grouped_distance("hellinger", ref, cur, n_bins)


def l_infinity_binned(
    ref: Histogram, cur: Histogram, *, n_bins: int = DEFAULT_GROUPS
) -> MetricResult:
    """Largest absolute difference of group shares, ``max |p - q|``, in ``[0, 1]``.

    Parameters
    ----------
    ref, cur
        Non-empty histograms on the same edges.
    n_bins
        Number of groups (see :func:`group_by_reference_mass`).

    Returns
    -------
    MetricResult
        ``metric="l_infinity"``, ``p_value=None``.
    """
    return _grouped_distance("l_infinity", ref, cur, n_bins)

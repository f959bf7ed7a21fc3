"""Exact drift metrics on raw samples (e.g. the baseline's and the window's reservoirs).

Inputs are 1-D float arrays with NaN already removed. These are the exact
counterparts of the binned metrics, and the right choice for small windows.
"""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt
from scipy.stats import anderson_ksamp, ks_2samp, wasserstein_distance

from monitor.errors import DataError
from monitor.metrics._divergences import DistanceName, check_n_bins, distance_from_counts
from monitor.metrics._numeric import normalise_by_std
from monitor.metrics._types import MetricResult

FloatArray = npt.NDArray[np.float64]


def _as_sample(values: npt.ArrayLike, side: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise DataError(f"The {side} sample must be 1-D; got shape {array.shape}.")
    if array.size == 0:
        raise DataError(
            f"The {side} sample is empty: a drift metric needs at least one value on each side."
        )
    if not np.all(np.isfinite(array)):
        raise DataError(f"The {side} sample holds NaN or inf; drop missing values first.")
    return array


def ks_sample(ref: npt.ArrayLike, cur: npt.ArrayLike) -> MetricResult:
    """Two-sample Kolmogorov-Smirnov test, ``scipy.stats.ks_2samp`` (two-sided, ``method="auto"``).

    Parameters
    ----------
    ref, cur
        Non-empty finite 1-D samples.

    Returns
    -------
    MetricResult
        ``metric="ks"``, the KS statistic and its p-value.
    """
    result = ks_2samp(_as_sample(ref, "ref"), _as_sample(cur, "cur"))
    return MetricResult(
        metric="ks", statistic=float(result.statistic), p_value=float(result.pvalue)
    )


def wasserstein_sample(ref: npt.ArrayLike, cur: npt.ArrayLike) -> MetricResult:
    """Normalised Wasserstein distance ``wasserstein_distance(ref, cur) / np.std(ref)`` (Evidently's).

    Parameters
    ----------
    ref, cur
        Non-empty finite 1-D samples. When ``ref`` is constant the statistic is
        0 if the distance is 0 and ``inf`` otherwise.

    Returns
    -------
    MetricResult
        ``metric="wasserstein"``, ``p_value=None``.
    """
    ref_values, cur_values = _as_sample(ref, "ref"), _as_sample(cur, "cur")
    distance = float(wasserstein_distance(ref_values, cur_values))
    statistic = normalise_by_std(distance, float(np.std(ref_values)))
    return MetricResult(metric="wasserstein", statistic=statistic, p_value=None)


def anderson_darling_sample(ref: npt.ArrayLike, cur: npt.ArrayLike) -> MetricResult:
    """k-sample Anderson-Darling test, ``scipy.stats.anderson_ksamp([ref, cur])``.

    scipy interpolates the p-value in a table and caps it to ``[0.001, 0.25]``;
    the cap warning is silenced. A permutation p-value (``method=PermutationMethod``)
    would cost thousands of resamples of the reservoirs, so it is not used: read
    0.25 as ">= 0.25" and 0.001 as "<= 0.001". When every value on both sides is
    the same (scipy refuses that input) the result is statistic 0 (the null
    expectation of the standardised statistic) and p-value 0.25.

    Parameters
    ----------
    ref, cur
        Non-empty finite 1-D samples.

    Returns
    -------
    MetricResult
        ``metric="anderson"``, the standardised statistic and the capped p-value.
    """
    ref_values, cur_values = _as_sample(ref, "ref"), _as_sample(cur, "cur")
    if np.all(ref_values == ref_values[0]) and np.all(cur_values == ref_values[0]):
        return MetricResult(metric="anderson", statistic=0.0, p_value=0.25)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="p-value capped", category=UserWarning)
        warnings.filterwarnings("ignore", message="p-value floored", category=UserWarning)
        result = anderson_ksamp([ref_values, cur_values])
    return MetricResult(
        metric="anderson", statistic=float(result.statistic), p_value=float(result.pvalue)
    )


def reference_quantile_counts(
    ref: npt.ArrayLike, cur: npt.ArrayLike, *, n_bins: int = 10
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Count both samples in ``n_bins`` bins cut at the reference quantiles.

    Bins are ``[q_j, q_{j+1})``; values beyond the reference range go to the
    outer bins; tied quantiles are merged, so fewer bins can come back.

    Parameters
    ----------
    ref, cur
        Non-empty finite 1-D samples.
    n_bins
        Wanted number of bins, ``>= 2``.

    Returns
    -------
    ref_counts, cur_counts : ndarray
        Counts per bin.
    """
    check_n_bins(n_bins)
    ref_values, cur_values = _as_sample(ref, "ref"), _as_sample(cur, "cur")
    inner = np.unique(np.quantile(ref_values, np.linspace(0, 1, n_bins + 1))[1:-1])
    size = inner.size + 1
    ref_counts = np.bincount(np.searchsorted(inner, ref_values, side="right"), minlength=size)
    cur_counts = np.bincount(np.searchsorted(inner, cur_values, side="right"), minlength=size)
    return ref_counts.astype(np.int64), cur_counts.astype(np.int64)


def _sample_distance(
    name: DistanceName, ref: npt.ArrayLike, cur: npt.ArrayLike, n_bins: int
) -> MetricResult:
    return distance_from_counts(name, *reference_quantile_counts(ref, cur, n_bins=n_bins))


def psi_sample(ref: npt.ArrayLike, cur: npt.ArrayLike, *, n_bins: int = 10) -> MetricResult:
    """Population Stability Index on reference-quantile bins (empty share -> ``1e-4``).

    The sample counterpart of :func:`psi_binned`: same bins when the baseline's
    fine edges contain the reference quantiles. See :func:`reference_quantile_counts`.

    Parameters
    ----------
    ref, cur
        Non-empty finite 1-D samples.
    n_bins
        Number of reference-quantile bins.

    Returns
    -------
    MetricResult
        ``metric="psi"``, ``p_value=None``.
    """
    return _sample_distance("psi", ref, cur, n_bins)


def jensenshannon_sample(
    ref: npt.ArrayLike, cur: npt.ArrayLike, *, n_bins: int = 10
) -> MetricResult:
    """Jensen-Shannon distance (natural log) on reference-quantile bins; see :func:`psi_sample`.

    Parameters
    ----------
    ref, cur
        Non-empty finite 1-D samples.
    n_bins
        Number of reference-quantile bins.

    Returns
    -------
    MetricResult
        ``metric="jensenshannon"``, ``p_value=None``.
    """
    return _sample_distance("jensenshannon", ref, cur, n_bins)


def hellinger_sample(ref: npt.ArrayLike, cur: npt.ArrayLike, *, n_bins: int = 10) -> MetricResult:
    """Hellinger distance on reference-quantile bins; see :func:`psi_sample`.

    Parameters
    ----------
    ref, cur
        Non-empty finite 1-D samples.
    n_bins
        Number of reference-quantile bins.

    Returns
    -------
    MetricResult
        ``metric="hellinger"``, ``p_value=None``.
    """
    return _sample_distance("hellinger", ref, cur, n_bins)


def l_infinity_sample(ref: npt.ArrayLike, cur: npt.ArrayLike, *, n_bins: int = 10) -> MetricResult:
    """Largest absolute difference of bin shares on reference-quantile bins; see :func:`psi_sample`.

    Parameters
    ----------
    ref, cur
        Non-empty finite 1-D samples.
    n_bins
        Number of reference-quantile bins.

    Returns
    -------
    MetricResult
        ``metric="l_infinity"``, ``p_value=None``.
    """
    return _sample_distance("l_infinity", ref, cur, n_bins)

"""The metric registry: a plain dict from name to what the metric is and how to compute it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from monitor.errors import DataError, RaiwatchError
from monitor.metrics import _categorical as cat
from monitor.metrics import _numeric as num
from monitor.metrics import _numeric_grouped as grouped
from monitor.metrics import _samples as smp
from monitor.metrics._types import MetricResult

ColumnKind = Literal["numeric", "categorical", "binary"]
COLUMN_KINDS: frozenset[str] = frozenset({"numeric", "categorical", "binary"})

#: Reference sizes above this use distances, at or below it statistical tests (DESIGN).
LARGE_REFERENCE = 1000
#: Numeric columns with at most this many distinct values are judged as categorical.
MAX_UNIQUE_AS_CATEGORICAL = 5

_ALL_KINDS = frozenset({"numeric", "categorical", "binary"})
_NUMERIC = frozenset({"numeric"})
_DISCRETE = frozenset({"categorical", "binary"})


class UnknownMetricError(RaiwatchError, KeyError, ValueError):
    """A metric name is not in :data:`METRICS`."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class MetricInfo:
    """What a drift metric is and the functions that compute it.

    Parameters
    ----------
    name
        Registry key, also ``MetricResult.metric``.
    kinds
        Column kinds it applies to (``numeric``, ``categorical``, ``binary``).
    is_test
        True for statistical tests: drift when the p-value is *below*
        ``default_threshold``. False for distances: drift when the statistic is
        *at or above* it.
    default_threshold
        The threshold used when the monitor does not set one.
    binned
        ``f(ref: Histogram, cur: Histogram, **kw) -> MetricResult`` or ``None``.
    categorical
        ``f(ref_counts: Mapping, cur_counts: Mapping) -> MetricResult`` or ``None``.
    sample
        ``f(ref: ndarray, cur: ndarray) -> MetricResult`` or ``None``.
    description
        One line for users.
    needs_ref_std
        ``binned`` takes the keyword ``ref_std`` (the reference standard deviation).
    """

    name: str
    kinds: frozenset[str]
    is_test: bool
    default_threshold: float
    binned: Callable[..., MetricResult] | None
    categorical: Callable[..., MetricResult] | None
    sample: Callable[..., MetricResult] | None
    description: str
    needs_ref_std: bool = False


_METRIC_LIST: tuple[MetricInfo, ...] = (
    MetricInfo(
        name="ks",
        kinds=_NUMERIC,
        is_test=True,
        default_threshold=0.05,
        binned=num.ks_binned,
        categorical=None,
        sample=smp.ks_sample,
        description="Two-sample Kolmogorov-Smirnov test (p-value).",
    ),
    MetricInfo(
        name="wasserstein",
        kinds=_NUMERIC,
        is_test=False,
        default_threshold=0.1,
        binned=num.wasserstein_binned,
        categorical=None,
        sample=smp.wasserstein_sample,
        needs_ref_std=True,
        description="Wasserstein-1 distance divided by the reference standard deviation.",
    ),
    MetricInfo(
        name="psi",
        kinds=_ALL_KINDS,
        is_test=False,
        default_threshold=0.2,
        binned=grouped.psi_binned,
        categorical=cat.psi_categorical,
        sample=smp.psi_sample,
        description="Population Stability Index on reference deciles or categories.",
    ),
    MetricInfo(
        name="jensenshannon",
        kinds=_ALL_KINDS,
        is_test=False,
        default_threshold=0.1,
        binned=grouped.jensenshannon_binned,
        categorical=cat.jensenshannon_categorical,
        sample=smp.jensenshannon_sample,
        description="Jensen-Shannon distance (natural log) of the bin or category shares.",
    ),
    MetricInfo(
        name="hellinger",
        kinds=_ALL_KINDS,
        is_test=False,
        default_threshold=0.1,
        binned=grouped.hellinger_binned,
        categorical=cat.hellinger_categorical,
        sample=smp.hellinger_sample,
        description="Hellinger distance of the bin or category shares.",
    ),
    MetricInfo(
        name="l_infinity",
        kinds=_ALL_KINDS,
        is_test=False,
        default_threshold=0.1,
        binned=grouped.l_infinity_binned,
        categorical=cat.l_infinity_categorical,
        sample=smp.l_infinity_sample,
        description="Largest absolute difference of the bin or category shares.",
    ),
    MetricInfo(
        name="chisquare",
        kinds=_DISCRETE,
        is_test=True,
        default_threshold=0.05,
        binned=None,
        categorical=cat.chisquare_categorical,
        sample=None,
        description="Chi-squared test of homogeneity of the category counts (p-value).",
    ),
    MetricInfo(
        name="ztest",
        kinds=frozenset({"binary"}),
        is_test=True,
        default_threshold=0.05,
        binned=None,
        categorical=cat.ztest_proportions,
        sample=None,
        description="Two-proportion z-test on a binary column (p-value).",
    ),
    MetricInfo(
        name="anderson",
        kinds=_NUMERIC,
        is_test=True,
        default_threshold=0.05,
        binned=None,
        categorical=None,
        sample=smp.anderson_darling_sample,
        description="Anderson-Darling k-sample test on raw samples (p-value in [0.001, 0.25]).",
    ),
)

#: Every drift metric by name; the keys are what monitors and results use.
METRICS: dict[str, MetricInfo] = {info.name: info for info in _METRIC_LIST}


def get_metric(name: str) -> MetricInfo:
    """Look a metric up by name.

    Parameters
    ----------
    name
        A key of :data:`METRICS`.

    Returns
    -------
    MetricInfo

    Raises
    ------
    UnknownMetricError
        (a ``KeyError`` and a ``ValueError``) naming the available metrics.

    Examples
    --------
    >>> get_metric("psi").default_threshold
    0.2
    """
    try:
        return METRICS[name]
    except (KeyError, TypeError):
        raise UnknownMetricError(
            f"unknown metric {name!r}; available: {', '.join(METRICS)}"
        ) from None


def choose_default_metric(
    kind: ColumnKind, reference_size: int, n_unique: int | None = None
) -> str:
    """The DESIGN default drift metric for a column.

    numeric: ``wasserstein`` when the reference has more than 1000 rows, else
    ``ks``; categorical: ``jensenshannon``, else ``chisquare``; binary:
    ``jensenshannon``, else ``ztest``. A numeric column with at most 5 distinct
    values (``n_unique``) is judged as categorical, as Evidently does.

    Parameters
    ----------
    kind
        ``numeric``, ``categorical`` or ``binary``.
    reference_size
        Number of non-null reference rows, ``>= 0``.
    n_unique
        Number of distinct reference values, if known.

    Returns
    -------
    str
        A key of :data:`METRICS`.

    Examples
    --------
    >>> choose_default_metric("numeric", 5000), choose_default_metric("numeric", 5000, 3)
    ('wasserstein', 'jensenshannon')
    """
    if kind not in COLUMN_KINDS:
        raise DataError(f"kind must be one of {sorted(COLUMN_KINDS)}; got {kind!r}.")
    if (
        isinstance(reference_size, bool)
        or not isinstance(reference_size, int)
        or reference_size < 0
    ):
        raise DataError(f"reference_size must be an integer >= 0; got {reference_size!r}.")
    if kind == "numeric" and n_unique is not None and n_unique <= MAX_UNIQUE_AS_CATEGORICAL:
        kind = "categorical"
    large = reference_size > LARGE_REFERENCE
    if kind == "numeric":
        return "wasserstein" if large else "ks"
    if kind == "categorical":
        return "jensenshannon" if large else "chisquare"
    return "jensenshannon" if large else "ztest"

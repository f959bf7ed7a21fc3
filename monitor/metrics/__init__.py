"""Drift metrics: pure functions comparing a reference with a current distribution.

Three input forms, one result type (:class:`MetricResult`):

* binned numeric columns -- two :class:`Histogram` on the baseline's edges;
* categorical and binary columns -- two ``category -> count`` mappings;
* raw samples -- two 1-D float arrays (e.g. reservoirs), for the exact tests.

:data:`METRICS` maps each metric name to a :class:`MetricInfo` holding its
functions, its default threshold and whether it is a test (drift when the
p-value is below the threshold) or a distance (drift at or above it).
"""

from monitor.metrics._categorical import (
    align_categories,
    chisquare_categorical,
    hellinger_categorical,
    jensenshannon_categorical,
    l_infinity_categorical,
    psi_categorical,
    ztest_proportions,
)
from monitor.metrics._divergences import PSI_EMPTY_SHARE, distance_from_counts
from monitor.metrics._multiple_testing import benjamini_hochberg
from monitor.metrics._numeric import ks_binned, wasserstein_binned, wasserstein_distance_binned
from monitor.metrics._numeric_grouped import (
    group_by_reference_mass,
    hellinger_binned,
    jensenshannon_binned,
    l_infinity_binned,
    psi_binned,
)
from monitor.metrics._registry import (
    METRICS,
    MetricInfo,
    UnknownMetricError,
    choose_default_metric,
    get_metric,
)
from monitor.metrics._samples import (
    anderson_darling_sample,
    hellinger_sample,
    jensenshannon_sample,
    ks_sample,
    l_infinity_sample,
    psi_sample,
    reference_quantile_counts,
    wasserstein_sample,
)
from monitor.metrics._types import Histogram, MetricResult

__all__ = [  # noqa: RUF022 -- grouped by input form, sorted within a group
    # value types
    "Histogram",
    "MetricResult",
    # binned numeric (Histogram pairs)
    "group_by_reference_mass",
    "hellinger_binned",
    "jensenshannon_binned",
    "ks_binned",
    "l_infinity_binned",
    "psi_binned",
    "wasserstein_binned",
    "wasserstein_distance_binned",
    # categorical and binary (category -> count mappings)
    "align_categories",
    "chisquare_categorical",
    "hellinger_categorical",
    "jensenshannon_categorical",
    "l_infinity_categorical",
    "psi_categorical",
    "ztest_proportions",
    # raw samples
    "anderson_darling_sample",
    "hellinger_sample",
    "jensenshannon_sample",
    "ks_sample",
    "l_infinity_sample",
    "psi_sample",
    "reference_quantile_counts",
    "wasserstein_sample",
    # share vectors
    "PSI_EMPTY_SHARE",
    "distance_from_counts",
    # multiple testing
    "benjamini_hochberg",
    # registry
    "METRICS",
    "MetricInfo",
    "UnknownMetricError",
    "choose_default_metric",
    "get_metric",
]

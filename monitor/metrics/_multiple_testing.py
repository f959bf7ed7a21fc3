"""Correction of many p-values (one per feature) for multiple testing."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.stats import false_discovery_control

from monitor.errors import DataError


def benjamini_hochberg(p_values: Sequence[float | None]) -> npt.NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate control).

    ``scipy.stats.false_discovery_control(p, method="bh")`` on the present
    p-values. ``None`` and NaN entries (features without a test result) are
    passed through as NaN and do not count towards the number of tests.
    Compare each adjusted p-value with the wanted false discovery rate, e.g.
    ``adjusted < 0.05``.

    Parameters
    ----------
    p_values
        P-values in ``[0, 1]``, ``None`` or NaN.

    Returns
    -------
    ndarray
        Float64, same length and order as ``p_values``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, None, 0.04, 0.03]).round(6).tolist()
    [0.03, nan, 0.04, 0.04]
    """
    values = np.array([math.nan if p is None else float(p) for p in p_values], dtype=np.float64)
    present = ~np.isnan(values)
    bad = values[present & ~((values >= 0) & (values <= 1))]
    if bad.size:
        raise DataError(f"p-values must lie in [0, 1] (or be None/NaN); got {bad.tolist()!r}.")
    adjusted = np.full(values.shape, math.nan)
    if present.any():
        adjusted[present] = false_discovery_control(values[present], method="bh")
    return adjusted

"""Test helper: count raw values on fixed edges the way a profile does, independently."""

from __future__ import annotations

import numpy as np

from monitor.metrics import Histogram


def build_histogram(values: np.ndarray, edges: np.ndarray, *, with_sums: bool = False) -> Histogram:
    """Count raw values on fixed edges (np.histogram: last bin closed), tails apart.

    ``with_sums`` also records each bin's sum of values, as profiles do.
    """
    under, over = values < edges[0], values > edges[-1]
    inside = values[~under & ~over]
    counts, _ = np.histogram(inside, bins=edges)
    sums = np.histogram(inside, bins=edges, weights=inside)[0] if with_sums else None
    return Histogram(
        edges, counts, int(under.sum()), float(values[under].sum()),
        int(over.sum()), float(values[over].sum()), sums,
    )  # fmt: skip

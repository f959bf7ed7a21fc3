"""A small baseline-vs-window histogram of one column, from the two profiles only.

Drift results carry it (``details["histogram"]``) so the dashboard can draw a
per-feature sparkline without raw rows and without the window's profile, which is
not stored. Numeric columns: ``bins`` equal-width bins over the baseline's
``[min, max]``, each of the profile's fine (quantile) bins counted in the coarse bin
holding its mean value, plus ``< min`` / ``> max`` bins when the window has values
outside the baseline's range. Categorical and boolean columns: the ``categories``
most frequent categories of both sides, the rest as ``(other)``. Values are shares
of each side's values (each side sums to 1).

>>> import numpy as np
>>> from monitor.profiles.column import CategoricalProfile
>>> ref, cur = CategoricalProfile(), CategoricalProfile()
>>> ref.counts, cur.counts = {"car": 6, "home": 4}, {"car": 2, "home": 2, "boat": 4}
>>> sketch = distribution_sketch(ref, cur)
>>> sketch["labels"], sketch["baseline"], sketch["window"]
(['car', 'home', 'boat'], [0.6, 0.4, 0.0], [0.25, 0.25, 0.5])
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from monitor.profiles.column import CategoricalProfile, ColumnProfile, NumericProfile

__all__ = ["SKETCH_BINS", "SKETCH_CATEGORIES", "distribution_sketch"]

SKETCH_BINS = 20
SKETCH_CATEGORIES = 10


def _shares(counts: np.ndarray) -> list[float]:
    total = float(counts.sum())
    return [round(float(c) / total, 6) if total else 0.0 for c in counts]


def _coarse_counts(profile: NumericProfile, edges: np.ndarray) -> np.ndarray:
    """The profile's fine-bin counts regrouped on ``edges`` by each fine bin's mean value."""
    assert profile.counts is not None and profile.edges is not None
    counts = np.asarray(profile.counts, dtype=float)
    fine = np.asarray(profile.edges, dtype=float)
    mids = (fine[:-1] + fine[1:]) / 2
    sums = np.asarray(profile.sums, dtype=float) if profile.sums is not None else mids * counts
    means = np.divide(sums, counts, out=mids.copy(), where=counts > 0)
    where = np.clip(np.searchsorted(edges, means, side="right") - 1, 0, len(edges) - 2)
    return np.bincount(where, weights=counts, minlength=len(edges) - 1)


def _numeric(ref: NumericProfile, cur: NumericProfile, bins: int) -> dict[str, Any] | None:
    if ref.edges is None or ref.counts is None or cur.counts is None or ref.n == 0:
        return None
    if len(ref.counts) != len(cur.counts):  # not on the baseline's bins: cannot compare
        return None
    lo, hi = float(ref.min), float(ref.max)
    edges = np.linspace(lo, hi, bins + 1) if hi > lo else np.array([lo, lo + 1.0])
    base, window = _coarse_counts(ref, edges), _coarse_counts(cur, edges)
    labels = [f"{a:.4g} – {b:.4g}" for a, b in itertools.pairwise(edges)]
    if hi <= lo:
        labels = [f"{lo:.4g}"]
    if cur.under_count:
        labels, base, window = (
            [f"< {lo:.4g}", *labels],
            np.r_[0.0, base],
            np.r_[cur.under_count, window],
        )
    if cur.over_count:
        labels, base, window = (
            [*labels, f"> {hi:.4g}"],
            np.r_[base, 0.0],
            np.r_[window, cur.over_count],
        )
    return {
        "kind": "numeric",
        "labels": labels,
        "baseline": _shares(base),
        "window": _shares(window),
    }


def _categorical(
    ref: CategoricalProfile, cur: CategoricalProfile, categories: int
) -> dict[str, Any] | None:
    base_total = sum(ref.counts.values()) + ref.other
    if base_total == 0:
        return None
    window_total = sum(cur.counts.values()) + cur.other
    share = {k: ref.counts.get(k, 0) / base_total + (cur.counts.get(k, 0) / window_total if window_total else 0.0)
             for k in set(ref.counts) | set(cur.counts)}  # fmt: skip
    ranked = sorted(share, key=lambda k: (-share[k], str(k)))
    keep, rest = ranked[:categories], ranked[categories:]
    base = [float(ref.counts.get(k, 0)) for k in keep]
    window = [float(cur.counts.get(k, 0)) for k in keep]
    labels = [str(k) for k in keep]
    other_base = ref.other + sum(ref.counts.get(k, 0) for k in rest)
    other_window = cur.other + sum(cur.counts.get(k, 0) for k in rest)
    if other_base or other_window:
        labels, base, window = (
            [*labels, "(other)"],
            [*base, float(other_base)],
            [*window, float(other_window)],
        )
    return {"kind": "categorical", "labels": labels, "baseline": _shares(np.asarray(base)),
            "window": _shares(np.asarray(window))}  # fmt: skip


def distribution_sketch(
    ref: ColumnProfile,
    cur: ColumnProfile,
    *,
    bins: int = SKETCH_BINS,
    categories: int = SKETCH_CATEGORIES,
) -> dict[str, Any] | None:
    """``{"kind", "labels", "baseline", "window"}`` for one column (``None`` when the
    profiles cannot be compared, e.g. a baseline without values)."""
    if isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile):
        return _numeric(ref, cur, bins)
    if isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        return _categorical(ref, cur, categories)
    return None

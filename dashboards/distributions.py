"""Baseline-vs-window distributions for the overlay chart.

The baseline side is the stored histogram (numeric, on the baseline's own bin
edges) or category counts; the window side is the window's logged values put on
the same edges. Nothing here is a monitoring result: the drift metric shown next
to the chart is the stored one.

>>> h = ColumnHistogram("numeric", edges=(0.0, 1.0, 2.0), counts=(1.0, 3.0))
>>> overlay_frame(h, [0.5, 1.5, 1.5, 9.0])[["baseline", "window"]].round(2).to_dict("list")
{'baseline': [0.25, 0.75], 'window': [0.33, 0.67]}

The drift table's sparklines come from the histogram each drift result stores
(``details["histogram"]``: shares per bin or category, from the profiles only),
scaled by the feature's tallest bar so baseline and window share one scale:

>>> sparkline_bars({"histogram": {"baseline": [0.2, 0.8], "window": [0.5, 0.5]}})
([0.25, 1.0], [0.625, 0.625])
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from monitor.baseline.reference import Baseline
from monitor.profiles.column import NumericProfile

MAX_BINS = 40
MAX_CATEGORIES = 20


@dataclass(frozen=True)
class ColumnHistogram:
    """A baseline column: bin ``edges`` and ``counts`` (numeric) or category ``counts``."""

    kind: Literal["numeric", "categorical"]
    edges: tuple[float, ...] = ()
    counts: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()


def column_histogram(document: dict[str, Any], column: str) -> ColumnHistogram | None:
    """The histogram of ``column`` in a stored baseline document (``None`` if absent)."""
    profile = Baseline.from_document(document).profile.columns.get(column)
    if profile is None:
        return None
    if isinstance(profile, NumericProfile):
        if profile.edges is None or profile.counts is None:
            return None
        return ColumnHistogram(
            "numeric",
            edges=tuple(float(e) for e in profile.edges),
            counts=tuple(float(c) for c in profile.counts),
        )
    ranked = sorted(profile.counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ColumnHistogram(
        "categorical",
        counts=tuple(float(c) for _, c in ranked),
        categories=tuple(str(k) for k, _ in ranked),
    )


def coarsen(
    edges: Sequence[float], counts: Sequence[float], max_bins: int = MAX_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Merge neighbouring bins so at most ``max_bins`` remain (counts add up)."""
    e, c = np.asarray(edges, dtype=float), np.asarray(counts, dtype=float)
    step = max(1, math.ceil(len(c) / max_bins))
    starts = np.arange(0, len(c), step)
    return np.append(e[starts], e[-1]), np.add.reduceat(c, starts)


def _share(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts


def overlay_frame(hist: ColumnHistogram, window: Sequence[Any]) -> pd.DataFrame:
    """One row per bin or category: ``label``, ``left``, ``right``, ``baseline``, ``window`` shares.

    Window values outside the baseline's range (numeric) are left out of the
    shares; categories beyond the top :data:`MAX_CATEGORIES` are grouped as ``(other)``.
    """
    if hist.kind == "numeric":
        edges, base = coarsen(hist.edges, hist.counts)
        values = np.asarray([v for v in window if v is not None], dtype=float)
        values = values[np.isfinite(values)]
        win, _ = np.histogram(values, bins=edges)
        labels = [f"{lo:.4g} – {hi:.4g}" for lo, hi in itertools.pairwise(edges)]
        return pd.DataFrame(
            {
                "label": labels,
                "left": edges[:-1],
                "right": edges[1:],
                "baseline": _share(base),
                "window": _share(win.astype(float)),
            }
        )
    seen = Counter(str(v) for v in window if v is not None)
    base_counts = dict(zip(hist.categories, hist.counts, strict=True))
    ranked = sorted(
        set(base_counts) | set(seen), key=lambda k: (-(base_counts.get(k, 0) + seen.get(k, 0)), k)
    )
    keep, rest = ranked[:MAX_CATEGORIES], ranked[MAX_CATEGORIES:]
    base_list = [base_counts.get(k, 0.0) for k in keep]
    win_list = [float(seen.get(k, 0)) for k in keep]
    if rest:
        keep = [*keep, "(other)"]
        base_list.append(sum(base_counts.get(k, 0.0) for k in rest))
        win_list.append(float(sum(seen.get(k, 0) for k in rest)))
    return pd.DataFrame(
        {
            "label": keep,
            "left": np.nan,
            "right": np.nan,
            "baseline": _share(np.asarray(base_list)),
            "window": _share(np.asarray(win_list)),
        }
    )


def out_of_range_share(hist: ColumnHistogram, window: Sequence[Any]) -> float:
    """Share of the window's finite numeric values outside the baseline's edges."""
    if hist.kind != "numeric" or not hist.edges:
        return 0.0
    values = np.asarray([v for v in window if v is not None], dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return 0.0
    return float(((values < hist.edges[0]) | (values > hist.edges[-1])).mean())


def quality_examples(hist: ColumnHistogram, values: Sequence[Any], *, limit: int = 5) -> str | None:
    """What a data-quality alert is about, from the window's values: the categories the
    baseline never saw (with counts), or the values outside the baseline's range.

    >>> cats = ColumnHistogram("categorical", counts=(3.0, 1.0), categories=("car", "home"))
    >>> quality_examples(cats, ["car", "boat", "boat", "plane", None])
    'new categories: boat (2), plane (1)'
    >>> nums = ColumnHistogram("numeric", edges=(0.0, 5.0, 10.0), counts=(1.0, 1.0))
    >>> quality_examples(nums, [1.0, 12.5, -3.0, 11.0, float("nan")])
    '3 values outside the baseline range [0, 10]: lowest -3, highest 12.5'
    """
    if hist.kind == "categorical":
        known = set(hist.categories)
        new = Counter(str(v) for v in values if v is not None and str(v) not in known)
        if not new:
            return None
        shown = ", ".join(f"{k} ({n})" for k, n in new.most_common(limit))
        more = f" and {len(new) - limit} more" if len(new) > limit else ""
        return f"new categories: {shown}{more}"
    if not hist.edges:
        return None
    low, high = hist.edges[0], hist.edges[-1]
    numbers = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").dropna()
    outside = numbers[(numbers < low) | (numbers > high)]
    if outside.empty:
        return None
    return (
        f"{len(outside):,} values outside the baseline range [{low:.4g}, {high:.4g}]: "
        f"lowest {outside.min():.4g}, highest {outside.max():.4g}"
    )


def sparkline_bars(details: Any) -> tuple[list[float] | None, list[float] | None]:
    """Baseline and window bars of one drift result, each divided by the tallest bar of
    the two (``None, None`` when the result stores no histogram)."""
    sketch = details.get("histogram") if isinstance(details, dict) else None
    if not isinstance(sketch, dict):
        return None, None
    base = [float(v) for v in sketch.get("baseline", [])]
    window = [float(v) for v in sketch.get("window", [])]
    top = max([*base, *window], default=0.0)
    if not top:
        return None, None
    return [round(v / top, 6) for v in base], [round(v / top, 6) for v in window]

"""The one threshold model every signal uses: significance and size together.

A change pages only when it is statistically significant at the signal's share
of the monitor's false-alarm budget (after the correction across features)
**and** at least ``min_effect`` in the metric's own units. A significant change
smaller than that is a ``warning``: reported, not paged::

    >>> t = SignificanceThreshold(alpha=0.001, min_effect=0.05)
    >>> t.classify(p_value=1e-6, effect=0.30), t.classify(p_value=1e-6, effect=0.01)
    ('alert', 'warning')
    >>> t.classify(p_value=0.2, effect=0.30)
    'ok'

The p-value comes from a test whose null law is known at the window's size
(:mod:`monitor.metrics._two_sample`), or from state fitted once at baseline
creation (held-out reference rows for multivariate drift); nothing is re-fitted
per run. :func:`judge` applies the correction across a signal's tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from monitor.metrics._two_sample import bh_levels, holm_levels
from monitor.signals.results import SignalResult, Status

Correction = Literal["holm", "benjamini-hochberg"]


@dataclass(frozen=True, kw_only=True)
class SignificanceThreshold:
    """Alert when ``p < alpha`` and ``effect >= min_effect``; significant but small → warning."""

    alpha: float
    min_effect: float
    kind: str = "significance"

    def __post_init__(self) -> None:
        if not 0 <= self.alpha < 1:
            raise ValueError(f"alpha must lie in [0, 1); got {self.alpha!r}")
        if not self.min_effect >= 0:
            raise ValueError(f"min_effect must be >= 0; got {self.min_effect!r}")

    def classify(self, *, p_value: float | None, effect: float | None) -> Status:
        if p_value is None or math.isnan(p_value):
            return "no_data"
        if p_value >= self.alpha:
            return "ok"
        if effect is not None and not math.isnan(effect) and abs(effect) >= self.min_effect:
            return "alert"
        return "warning"


def judge(results: Sequence[SignalResult], alpha: float, correction: Correction = "holm") -> list[SignalResult]:
    """Correct ``alpha`` across the results' p-values and set each status.

    Each result comes in with ``p_value``, ``effect_size`` and ``min_effect`` set
    (and ``status`` ``ok`` as a placeholder); results whose status is ``no_data`` or
    ``error`` pass through. The level each p-value had to beat is stored in
    ``alpha`` and the correction in ``correction``.
    """
    judged = [i for i, r in enumerate(results) if r.status not in ("no_data", "error") and r.p_value is not None]
    ps = [results[i].p_value for i in judged]
    levels = holm_levels(ps, alpha) if correction == "holm" else bh_levels(ps, alpha)
    out = list(results)
    name = correction if len(judged) > 1 else "none"
    for i, level in zip(judged, levels, strict=True):
        r = results[i]
        assert level is not None
        t = SignificanceThreshold(alpha=level, min_effect=r.min_effect or 0.0)
        out[i] = r.replace(status=t.classify(p_value=r.p_value, effect=r.effect_size), alpha=level, correction=name)
    return out

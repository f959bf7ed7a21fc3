"""What a baseline can detect, said at baseline time: sizes, limits and the rows needed.

Drift tests are two-sample tests, so the reference's own size bounds what any
window can show. For each window size this gives the smallest mean shift (in
reference standard deviations) a numeric feature's test detects with 95 % power
at the monitor's budget (the data-drift share, Bonferroni over the features and
over the test's two parts), and the warnings an operator needs: columns with too
few reference values to be judged at all, and a reference too small to detect
a half-σ shift, with the size that would.

>>> limits = mean_shift_limit(alpha=0.005, features=20, n_ref=50_000, n=1000)
>>> round(limits, 3)
0.175
>>> reference_rows_needed(alpha=0.005, features=20, shift=0.5, n=200)
302
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from scipy import stats

if TYPE_CHECKING:
    from monitor.baseline.reference import Baseline
    from monitor.spec.signal_config import SignalConfig

WINDOW_SIZES = (200, 1000, 5000)
POWER = 0.95


def _z(alpha: float, features: int) -> float:
    # two-sided, Bonferroni over features and over the test's two parts (Welch and KS)
    return float(stats.norm.isf(alpha / max(features, 1) / 4) + stats.norm.isf(1 - POWER))


def mean_shift_limit(*, alpha: float, features: int, n_ref: int, n: int) -> float:
    """Smallest mean shift (in σ) detected with 95 % power by the Welch part of the test."""
    return _z(alpha, features) * math.sqrt(1 / n + 1 / n_ref)


def reference_rows_needed(*, alpha: float, features: int, shift: float, n: int) -> int | None:
    """Reference rows needed to detect ``shift`` σ in windows of ``n`` rows (``None``: impossible)."""
    room = (shift / _z(alpha, features)) ** 2 - 1 / n
    return None if room <= 0 else math.ceil(1 / room)


def detection_limits(baseline: Baseline, config: SignalConfig) -> dict[str, Any]:
    """Limits and warnings for a baseline under a monitor's ``signals`` block."""
    from monitor.signals import SIGNALS, split_budget
    from monitor.signals.column_drift import column_kind

    mv = baseline.model_version
    share = split_budget(config.alpha, SIGNALS, config.signal_settings(), mv).get("data_drift", 0.0)
    features = list(mv.monitored_features)
    numeric = [f for f in features if column_kind(f) == "numeric"]
    min_rows = config.data_drift.min_rows
    warnings: list[str] = []
    thin = [f.name for f in features if baseline.profile.columns[f.name].n < min_rows]
    if thin:
        warnings.append(
            f"columns {thin} have fewer than {min_rows} reference values and cannot be judged; "
            f"rebuild the baseline with at least {min_rows} non-null values each"
        )
    n_ref = min((baseline.profile.columns[f.name].n for f in numeric), default=0)
    limits = {}
    if numeric and n_ref and share:
        for n in WINDOW_SIZES:
            limits[str(n)] = round(mean_shift_limit(alpha=share, features=len(features), n_ref=n_ref, n=n), 4)
        need = reference_rows_needed(alpha=share, features=len(features), shift=0.5, n=200)
        if limits[str(WINDOW_SIZES[0])] > 0.5:
            warnings.append(
                f"the reference has {n_ref:,} rows: a 0.5σ shift in 200-row windows is not detectable with "
                f"95 % power at this budget; " + (f"use at least {need:,} reference rows" if need else "use larger windows")
            )
    return {
        "data_drift_alpha": share,
        "features": len(features),
        "reference_rows": n_ref,
        "mean_shift_detectable_at_95pct_power": limits,
        "warnings": warnings,
    }

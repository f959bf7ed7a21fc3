"""Data quality: null, type-error, out-of-range and unseen-category rates.

Each rate of the window is tested against the baseline with a one-sided test
whose null law is exact:

* null and type-error rates: Fisher's exact test (hypergeometric) of the window's
  count against the baseline's;
* out-of-range (outside the baseline's ``[min, max]``; ±inf always counts): under no
  change the share of new values outside ``n`` reference values' range is
  ``Beta(2, n - 1)``, so the window's count is beta-binomial;
* unseen categories: the baseline's categories seen once (and those beyond its
  top-K) estimate how often a new row shows a category the baseline lacks
  (leave-one-out), tested like a rate.

A rate pages when the increase is significant at the signal's share of the
budget (Holm across features and rates) **and** at least ``min_effect``
(default 0.02, two points). The result names the new categories and the
window's out-of-range extremes.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from monitor.metrics._two_sample import exceedance_test, rate_increase_test
from monitor.profiles.column import CategoricalProfile, ColumnProfile, NumericProfile
from monitor.signals.base import SignalContext, SignalSettings
from monitor.signals.data_drift import select_columns
from monitor.signals.results import SignalResult
from monitor.signals.thresholds import judge


class QualitySettings(SignalSettings):
    """Data quality: window rates compared with the baseline's rates."""

    features: tuple[str, ...] | None = None
    min_effect: float = Field(default=0.02, ge=0, le=1)
    min_rows: int = Field(default=30, ge=1)


Settings = QualitySettings


def _tests(ref: ColumnProfile, cur: ColumnProfile) -> list[tuple[str, float, float, float, dict[str, Any]]]:
    """``(metric, window rate, baseline rate, p-value, details)`` per rate."""
    n_ref, n_cur = ref.count, cur.count
    details: dict[str, Any]
    out: list[tuple[str, float, float, float, dict[str, Any]]] = [
        ("null_rate", cur.nulls / n_cur, ref.nulls / n_ref, rate_increase_test(ref.nulls, n_ref, cur.nulls, n_cur), {}),
        ("type_error_rate", cur.type_errors / n_cur, ref.type_errors / n_ref, rate_increase_test(ref.type_errors, n_ref, cur.type_errors, n_cur), {}),
    ]  # fmt: skip
    if isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile):
        k = cur.out_of_range + cur.infinities
        expected = 2 / (ref.n + 1) if ref.n else 0.0
        if ref.infinities:  # a baseline with ±inf: judge the rate against its own
            p = rate_increase_test(ref.infinities, n_ref, k, n_cur)
            expected = ref.infinities / n_ref
        else:
            p = exceedance_test(k, n_cur, ref.n)
        details = {"window_min": cur.min if cur.n else None, "window_max": cur.max if cur.n else None,
                   "baseline_min": ref.min if ref.n else None, "baseline_max": ref.max if ref.n else None,
                   "infinities": cur.infinities}  # fmt: skip
        out.append(("out_of_range_rate", k / n_cur, expected, p, details))
    elif isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        singles = sum(1 for c in ref.counts.values() if c == 1) + ref.other
        new = sorted(set(cur.counts) - set(ref.counts))[:20]
        details = {"new_categories": new}
        p = rate_increase_test(singles, n_ref, cur.unseen, n_cur)
        out.append(("unseen_category_rate", cur.unseen / n_cur, singles / n_ref, p, details))
    return out


def evaluate(context: SignalContext, settings: QualitySettings) -> list[SignalResult]:
    specs = select_columns(list(context.model_version.monitored_features), settings.features, "data_quality.features")
    pending: list[SignalResult] = []
    for spec in specs:
        ref, cur = context.baseline.profile.columns[spec.name], context.window.columns[spec.name]
        sizes: dict[str, Any] = {"reference_size": ref.count, "current_size": cur.count}
        if cur.count < settings.min_rows or ref.count == 0:
            why = (f"the window has {cur.count} rows; data-quality rates need at least {settings.min_rows}"
                   if ref.count else f"the baseline has no rows for {spec.name!r}; rebuild it")  # fmt: skip
            pending.append(SignalResult(signal="data_quality", feature=spec.name, metric="null_rate", value=None, status="no_data", message=why, **sizes))
            continue
        for metric, rate, base_rate, p, details in _tests(ref, cur):
            message = f"every value of {spec.name!r} is null in this window" if metric == "null_rate" and rate == 1.0 else None
            if details.get("new_categories"):
                message = f"new categories: {', '.join(map(str, details['new_categories']))}"
            pending.append(
                SignalResult(
                    signal="data_quality", feature=spec.name, metric=metric, value=rate,
                    threshold=min(1.0, base_rate + settings.min_effect), status="ok", p_value=p,
                    effect_size=rate - base_rate, min_effect=settings.min_effect, message=message,
                    details={"baseline_rate": base_rate, **details}, **sizes,
                )
            )  # fmt: skip
    return judge(pending, context.alpha("data_quality"), context.correction)

"""Data quality: null, type-error, out-of-range and unseen-category rates.

Each rate of the window is compared with the same rate in the baseline; the
alert threshold is the baseline rate plus ``max_increase``. Out-of-range means
outside the baseline's ``[min, max]`` (±inf always counts); unseen means a
category the baseline never had.
"""

from __future__ import annotations

from monitor.profiles.column import CategoricalProfile, ColumnProfile, NumericProfile
from monitor.profiles.dataset import DatasetProfile
from monitor.signals.results import SignalResult
from monitor.spec.model_version import FeatureSpec
from monitor.spec.signal_config import QualityConfig


def _rates(prof: ColumnProfile, *, is_baseline: bool) -> dict[str, float]:
    if prof.count == 0:
        return {}
    rates = {
        "null_rate": prof.nulls / prof.count,
        "type_error_rate": prof.type_errors / prof.count,
    }
    if isinstance(prof, NumericProfile):
        outside = prof.infinities + (0 if is_baseline else prof.out_of_range)
        rates["out_of_range_rate"] = outside / prof.count
    elif isinstance(prof, CategoricalProfile):
        rates["unseen_category_rate"] = 0.0 if is_baseline else prof.unseen / prof.count
    return rates


def quality_results(
    specs: list[FeatureSpec], baseline: DatasetProfile, window: DatasetProfile, config: QualityConfig
) -> list[SignalResult]:
    """Per-feature data-quality results of a window against the baseline."""
    out: list[SignalResult] = []
    for spec in specs:
        ref, cur = baseline.columns[spec.name], window.columns[spec.name]
        base_rates = _rates(ref, is_baseline=True)
        if cur.count < config.min_rows:
            for metric in base_rates or {"null_rate": 0.0}:
                out.append(
                    SignalResult(
                        "data_quality", spec.name, metric, None, None, "no_data",
                        reference_size=ref.count, current_size=cur.count,
                        message=f"the window has {cur.count} rows; data-quality rates need at least {config.min_rows}",
                    )
                )
            continue
        for metric, value in _rates(cur, is_baseline=False).items():
            ref_rate = base_rates.get(metric, 0.0)
            limit = min(1.0, ref_rate + config.max_increase)
            status = "alert" if value > limit else "ok"
            message = None
            if metric == "null_rate" and value == 1.0:
                message = f"every value of {spec.name!r} is null in this window"
            out.append(
                SignalResult(
                    "data_quality", spec.name, metric, value, limit, status,
                    reference_size=ref.count, current_size=cur.count, message=message,
                    details={"baseline_rate": ref_rate},
                )
            )
    return out

"""Data drift, dataset drift and prediction drift from profiles.

Each column is compared with the baseline by the metric chosen for it (DESIGN
defaults, or the monitor's override), binned from the histograms by default and
exactly on the reservoir samples when asked (``exact: true``) or when both
samples hold every row. The result carries the value, the threshold in force
and a status; a column that cannot be judged says why (``no_data``), and a
metric that fails is stored as ``error`` with its message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from monitor.baseline.reference import Baseline
from monitor.errors import RaiwatchError
from monitor.metrics import (
    METRICS,
    MetricInfo,
    MetricResult,
    benjamini_hochberg,
    choose_default_metric,
)
from monitor.metrics._registry import MAX_UNIQUE_AS_CATEGORICAL
from monitor.profiles.column import CategoricalProfile, ColumnProfile, NumericProfile
from monitor.profiles.dataset import DatasetProfile
from monitor.signals.results import SignalResult
from monitor.signals.thresholds import (
    ConstantThreshold,
    Direction,
    Threshold,
    ThresholdSpec,
    leave_chunk_out_scores,
)
from monitor.spec.model_version import FeatureSpec
from monitor.spec.signal_config import DatasetDriftConfig, DriftConfig


def column_kind(spec: FeatureSpec) -> str:
    if spec.type == "boolean":
        return "binary"
    return "numeric" if spec.type in ("numeric", "datetime") else "categorical"


def _category_counts(prof: ColumnProfile) -> dict[str, int]:
    if isinstance(prof, CategoricalProfile):
        counts = dict(prof.counts)
        if prof.other:
            counts["__other__"] = prof.other
        return counts
    # A numeric column judged as categorical: each (discrete-value) bin is a category.
    assert prof.counts is not None
    counts = {f"bin{i}": int(c) for i, c in enumerate(prof.counts) if c}
    if prof.under_count:
        counts["below_baseline"] = prof.under_count
    if prof.over_count:
        counts["above_baseline"] = prof.over_count
    return counts


def _sample(profile: DatasetProfile, column: str) -> np.ndarray:
    frame: pd.DataFrame = profile.reservoir.to_pandas()
    if column not in frame:
        return np.array([], dtype=np.float64)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    return values[np.isfinite(values)]


def _complete(profile: DatasetProfile) -> bool:
    return profile.reservoir.num_rows >= profile.row_count > 0


def choose_metric(spec: FeatureSpec, ref: ColumnProfile, ref_sample_unique: int | None, config: DriftConfig) -> MetricInfo:
    name = config.methods.get(spec.name)
    if name is None:
        # The default may judge a discrete numeric column as categorical (chisquare on its
        # one-value bins), which the kind check below would wrongly reject.
        name = choose_default_metric(column_kind(spec), int(ref.n), ref_sample_unique)  # type: ignore[arg-type]
        return METRICS[name]
    info = METRICS[name]
    kind = column_kind(spec)
    if kind not in info.kinds:
        raise RaiwatchError(
            f"metric {name!r} does not apply to {kind} column {spec.name!r}; "
            f"use one of {[m for m, i in METRICS.items() if kind in i.kinds]}"
        )
    return info


def compare_columns(
    info: MetricInfo,
    ref: ColumnProfile,
    cur: ColumnProfile,
    *,
    ref_sample: np.ndarray | None = None,
    cur_sample: np.ndarray | None = None,
    as_categorical: bool = False,
) -> tuple[MetricResult, str]:
    """Compute one metric; returns the result and how (``exact``/``binned``/``counts``).

    ``as_categorical`` compares a discrete numeric column's values as categories (one
    bin per value, values beyond the baseline as new categories).
    """
    if as_categorical and info.categorical is not None:
        return info.categorical(_category_counts(ref), _category_counts(cur)), "counts"
    if ref_sample is not None and cur_sample is not None and info.sample is not None:
        return info.sample(ref_sample, cur_sample), "exact"
    if isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile) and info.binned is not None:
        rh, ch = ref.histogram(), cur.histogram()
        assert rh is not None and ch is not None
        if info.needs_ref_std:
            return info.binned(rh, ch, ref_std=ref.std), "binned"
        return info.binned(rh, ch), "binned"
    if info.categorical is not None:
        return info.categorical(_category_counts(ref), _category_counts(cur)), "counts"
    raise RaiwatchError(
        f"metric {info.name!r} needs raw samples here; set `exact: true` for this signal "
        "or choose a binned metric"
    )


def _threshold(
    info: MetricInfo, column: str, config: DriftConfig, baseline: Baseline, as_categorical: bool = False
) -> Threshold:
    spec = config.thresholds.get(column) or config.thresholds.get(info.name) or ThresholdSpec()
    direction: Direction = "below" if info.is_test else "above"
    threshold = spec.build(direction, info.default_threshold)
    if isinstance(threshold, ConstantThreshold):
        return threshold

    def score(rest: DatasetProfile, chunk: DatasetProfile) -> float | None:
        r, c = rest.columns[column], chunk.columns[column]
        if r.n == 0 or c.n == 0:
            return None
        return compare_columns(info, r, c, as_categorical=as_categorical)[0].score

    scores = leave_chunk_out_scores(baseline.chunks, score, lambda a, b: a.merge(b))
    return threshold.fit(scores)


def drift_results(
    signal: str,
    specs: list[FeatureSpec],
    baseline: Baseline,
    window: DatasetProfile,
    config: DriftConfig,
) -> list[SignalResult]:
    """Per-column drift results for ``specs`` (features or model outputs)."""
    ref_profile = baseline.profile
    both_complete = _complete(ref_profile) and _complete(window)
    results: list[SignalResult] = []
    for spec in specs:
        ref, cur = ref_profile.columns[spec.name], window.columns[spec.name]
        base: dict[str, Any] = {"signal": signal, "feature": spec.name, "reference_size": ref.n, "current_size": cur.n}
        ref_sample = _sample(ref_profile, spec.name) if column_kind(spec) == "numeric" else None
        unique = len(np.unique(ref_sample)) if ref_sample is not None and len(ref_sample) else None
        try:
            info = choose_metric(spec, ref, unique, config)
            # A numeric column with few distinct values is judged by default as categorical:
            # quantile groups or samples would merge its values (a constant column never drifts).
            as_categorical = (
                spec.name not in config.methods
                and column_kind(spec) == "numeric"
                and unique is not None
                and unique <= MAX_UNIQUE_AS_CATEGORICAL
            )
            threshold = _threshold(info, spec.name, config, baseline, as_categorical)
        except (RaiwatchError, ValueError) as err:
            results.append(SignalResult(metric=config.methods.get(spec.name, "default"), value=None, threshold=None, status="error", message=str(err), **base))
            continue
        base.update(metric=info.name, threshold=threshold.limit)
        if ref.n == 0:
            results.append(SignalResult(value=None, status="no_data", message=f"the baseline has no values for {spec.name!r}; rebuild it with data for this column", **base))
            continue
        if cur.n < config.min_rows:
            what = "no values" if cur.n == 0 else f"only {cur.n} values"
            results.append(SignalResult(value=None, status="no_data", message=f"the window has {what} for {spec.name!r}; {info.name} needs at least {config.min_rows}", **base))
            continue
        # Exact tests on the reservoirs when asked, when both hold every row, or for a
        # p-value test on a fully sampled (small) reference: the asymptotic binned
        # p-value is too small for small samples.
        exact = config.exact or both_complete or (info.is_test and _complete(ref_profile))
        samples = (ref_sample, _sample(window, spec.name)) if exact and ref_sample is not None else (None, None)
        try:
            res, how = compare_columns(info, ref, cur, ref_sample=samples[0], cur_sample=samples[1], as_categorical=as_categorical)
        except (RaiwatchError, ValueError, FloatingPointError) as err:
            results.append(SignalResult(value=None, status="error", message=f"{info.name} failed on {spec.name!r}: {err}", **base))
            continue
        message = None
        if isinstance(ref, NumericProfile) and ref.n and ref.std == 0 and not info.is_test:
            message = "the baseline column is constant; any change counts as drift"
        results.append(
            SignalResult(value=res.score, status=threshold.classify(res.score), p_value=res.p_value, statistic=res.statistic, message=message, details={"computed_from": how, "threshold_type": threshold.kind}, **base)  # type: ignore[arg-type]
        )
    if config.bh_correction:
        results = _apply_bh(results, baseline, config)
    return results


def _apply_bh(results: list[SignalResult], baseline: Baseline, config: DriftConfig) -> list[SignalResult]:
    idx = [i for i, r in enumerate(results) if r.p_value is not None and METRICS[r.metric].is_test]
    if not idx:
        return results
    adjusted = benjamini_hochberg([results[i].p_value for i in idx])
    out = list(results)
    for i, q in zip(idx, adjusted, strict=True):
        r = out[i]
        threshold = _threshold(METRICS[r.metric], r.feature or "", config, baseline)
        out[i] = SignalResult(**{**r.__dict__, "value": float(q), "status": threshold.classify(float(q)), "details": {**r.details, "p_value_raw": r.p_value, "correction": "benjamini-hochberg"}})
    return out


def dataset_drift_result(feature_results: list[SignalResult], config: DatasetDriftConfig) -> SignalResult:
    judged = [r for r in feature_results if r.status in ("ok", "warning", "alert")]
    drifted = [r.feature for r in judged if r.status == "alert"]
    if not judged:
        return SignalResult("dataset_drift", None, "drift_share", None, config.drift_share, "no_data", message="no feature could be judged in this window")
    weights: Mapping[str, float] = config.importance or {}
    if weights:
        total = sum(weights.get(r.feature or "", 0.0) for r in judged)
        share = sum(weights.get(f or "", 0.0) for f in drifted) / total if total else 0.0
    else:
        share = len(drifted) / len(judged)
    status = "alert" if share >= config.drift_share else "ok"
    return SignalResult(
        "dataset_drift", None, "drift_share", share, config.drift_share, status,
        current_size=len(judged), details={"drifted_features": drifted, "weighted": bool(weights)},
    )  # fmt: skip

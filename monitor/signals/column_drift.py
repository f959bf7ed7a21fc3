"""Per-column drift, shared by data drift (features) and prediction drift (outputs).

Each column gets one **test** with a known null law at the window's size and one
**effect size** in the units users reason in:

============  ==========================================  ==============================
column        test (p-value)                              effect (default ``min_effect``)
============  ==========================================  ==============================
numeric       Mann–Whitney rank-sum (location) and        Wasserstein distance in
              Kolmogorov–Smirnov (shape), both binned on   reference standard deviations
              the baseline's 1,000 quantile bins or exact  (0.05)
              on the samples, Bonferroni over the two
categorical,  χ² homogeneity, sparse categories pooled    largest change of a category's
boolean       (Fisher's exact test for two categories)    share, ``l_infinity`` (0.02)
============  ==========================================  ==============================

Binned KS is never above the exact statistic, so its p-value is conservative.
A column's ``methods`` override picks another effect metric from
:data:`monitor.metrics.METRICS` (or, for a test such as ``ks``, the test).
The signal's share of the budget is corrected across columns (Holm by default)
in :func:`monitor.signals.thresholds.judge`. Each judged result also carries a small
baseline-vs-window histogram (``details["histogram"]``, from the two profiles) for
the dashboard's per-feature sparkline.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field, field_validator

from monitor.errors import RaiwatchError
from monitor.metrics import METRICS, MetricInfo, MetricResult
from monitor.metrics._two_sample import (
    chisquare_pooled,
    ks_two_sample,
    mann_whitney_counts,
    mann_whitney_sample,
    welch_test,
)
from monitor.profiles.column import CategoricalProfile, ColumnProfile, NumericProfile
from monitor.profiles.distribution import distribution_sketch
from monitor.signals.base import SignalContext, SignalSettings, no_data
from monitor.signals.results import SignalResult
from monitor.signals.thresholds import judge

if TYPE_CHECKING:
    from monitor.profiles.dataset import DatasetProfile
    from monitor.spec.model_version import FeatureSpec

DEFAULT_EFFECT = {"numeric": "wasserstein", "categorical": "l_infinity", "binary": "l_infinity"}
DEFAULT_MIN_EFFECT: dict[str, float] = {
    "wasserstein": 0.05,  # in reference standard deviations
    "l_infinity": 0.02,  # share points
    "psi": 0.1,
    "jensenshannon": 0.05,
    "hellinger": 0.05,
    "ks": 0.05,  # the KS statistic
    "anderson": 0.05,
    "chisquare": 0.02,
    "ztest": 0.02,
}


class DriftSettings(SignalSettings):
    """Data drift (features) or prediction drift (model outputs).

    ``min_effect`` maps a metric name or a column name to the smallest effect that
    pages (column names win); defaults in :data:`DEFAULT_MIN_EFFECT`.
    """

    features: tuple[str, ...] | None = None
    methods: dict[str, str] = Field(default_factory=dict)
    min_effect: dict[str, float] = Field(default_factory=dict)
    exact: bool = False
    min_rows: int = Field(default=30, ge=2)

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: dict[str, str]) -> dict[str, str]:
        for col, metric in value.items():
            if metric not in METRICS:
                raise ValueError(f"method {metric!r} for {col!r} is unknown; available: {', '.join(METRICS)}")
        return value

    @field_validator("min_effect")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if not (v >= 0 and math.isfinite(v))}
        if bad:
            raise ValueError(f"min_effect values must be finite and >= 0; got {bad}")
        return value


def column_kind(spec: FeatureSpec) -> str:
    if spec.type == "boolean":
        return "binary"
    return "numeric" if spec.type in ("numeric", "datetime") else "categorical"


def category_counts(prof: ColumnProfile) -> dict[str, int]:
    """Counts by category; a numeric column's bins count as categories."""
    if isinstance(prof, CategoricalProfile):
        counts = dict(prof.counts)
        if prof.other:
            counts["__other__"] = prof.other
        return counts
    assert prof.counts is not None
    counts = {f"bin{i}": int(c) for i, c in enumerate(prof.counts) if c}
    if prof.under_count:
        counts["below_baseline"] = prof.under_count
    if prof.over_count:
        counts["above_baseline"] = prof.over_count
    return counts


def _sample(profile: DatasetProfile, column: str) -> np.ndarray:
    values = profile.reservoir.column_values(column)
    return values[np.isfinite(values)]


def _complete(profile: DatasetProfile) -> bool:
    return profile.reservoir.num_rows >= profile.row_count > 0


def _effect(info: MetricInfo, kind: str, ref: ColumnProfile, cur: ColumnProfile) -> float:
    if kind != "numeric" or info.binned is None:
        assert info.categorical is not None
        return float(info.categorical(category_counts(ref), category_counts(cur)).statistic)
    assert isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile)
    rh, ch = ref.histogram(), cur.histogram()
    assert rh is not None and ch is not None
    if info.needs_ref_std:
        if ref.std == 0:  # a constant reference: report the raw distance
            return float(METRICS["wasserstein"].binned(rh, ch, ref_std=1.0).statistic)  # type: ignore[misc]
        return float(info.binned(rh, ch, ref_std=ref.std).statistic)
    return float(info.binned(rh, ch).statistic)


def _numeric_p(
    ref: NumericProfile, cur: NumericProfile, samples: tuple[np.ndarray, np.ndarray] | None, test: MetricInfo | None
) -> tuple[float, dict[str, Any]]:
    ks = METRICS["ks"] if test is None else test
    rh, ch = ref.histogram(), cur.histogram()
    if samples is not None and test is None:
        d, p_ks = ks_two_sample(*samples)
        res, how = MetricResult(metric="ks", statistic=d, p_value=p_ks), "exact"
        p_location = mann_whitney_sample(*samples)
    elif samples is not None and ks.sample is not None:
        res, how = ks.sample(*samples), "exact"
    elif ks.binned is None:
        raise RaiwatchError(
            f"{ks.name} needs the raw values of both sides, and the window or baseline is sampled; "
            "set `exact: true` for this signal (tests on the reservoir samples) or choose ks"
        )
    else:
        assert rh is not None and ch is not None
        res, how = ks.binned(rh, ch), "binned"
    p_shape = float(res.p_value) if res.p_value is not None else 1.0
    if test is not None:  # a user-chosen test stands alone
        return p_shape, {"test": test.name, "computed_from": how, "statistic": res.statistic}
    if how == "binned":
        assert rh is not None and ch is not None
        p_location = mann_whitney_counts(rh, ch)
    p = min(1.0, 2 * min(p_location, p_shape))
    return p, {
        "test": "mann-whitney+ks (bonferroni)", "p_location": p_location, "p_ks": p_shape,
        "ks_statistic": res.statistic, "computed_from": how,
        # the mean difference's Welch p-value, for reading only (its law needs normal-ish data)
        "p_welch": welch_test(ref.n, ref.mean, ref.variance, cur.n, cur.mean, cur.variance),
    }  # fmt: skip


def column_results(signal: str, specs: list[FeatureSpec], context: SignalContext, settings: DriftSettings) -> list[SignalResult]:
    """Judge every column of ``specs``; the signal's budget is corrected across them."""
    baseline, window = context.baseline, context.window
    ref_profile = baseline.profile
    exact_all = settings.exact or (_complete(ref_profile) and _complete(window))
    pending: list[SignalResult] = []
    for spec in specs:
        ref, cur = ref_profile.columns[spec.name], window.columns[spec.name]
        kind = column_kind(spec)
        base: dict[str, Any] = {"signal": signal, "feature": spec.name, "reference_size": ref.n, "current_size": cur.n}
        chosen = settings.methods.get(spec.name)
        try:
            if chosen is not None and kind not in METRICS[chosen].kinds:
                raise RaiwatchError(
                    f"metric {chosen!r} does not apply to {kind} column {spec.name!r}; "
                    f"use one of {[m for m, i in METRICS.items() if kind in i.kinds]}"
                )
            test = METRICS[chosen] if chosen and METRICS[chosen].is_test else None
            effect_info = METRICS[chosen] if chosen and test is None else METRICS[DEFAULT_EFFECT[kind]]
        except RaiwatchError as err:
            pending.append(SignalResult(metric=chosen or "default", value=None, status="error", message=str(err), **base))
            continue
        min_effect = settings.min_effect.get(spec.name, settings.min_effect.get(effect_info.name, DEFAULT_MIN_EFFECT.get(effect_info.name, 0.0)))
        base.update(metric=effect_info.name, threshold=min_effect, min_effect=min_effect)
        if ref.n == 0:
            pending.append(no_data(signal, effect_info.name, f"the baseline has no values for {spec.name!r}; rebuild it with data for this column", feature=spec.name))
            continue
        if cur.n < settings.min_rows:
            what = "no values" if cur.n == 0 else f"only {cur.n} values"
            pending.append(SignalResult(value=None, status="no_data", message=f"the window has {what} for {spec.name!r}; drift needs at least {settings.min_rows}", **base))
            continue
        try:
            effect = _effect(effect_info, kind, ref, cur)
            if kind == "numeric":
                assert isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile)
                samples = (_sample(ref_profile, spec.name), _sample(window, spec.name)) if exact_all else None
                p, details = _numeric_p(ref, cur, samples, test)
            else:
                stat, dof, p = chisquare_pooled(category_counts(ref), category_counts(cur))
                test_name = "fisher_exact" if dof == 1 else "chi2 (pooled)"
                details = {"test": test_name, "chi2_statistic": stat, "dof": dof, "computed_from": "counts"}
        except (RaiwatchError, ValueError, FloatingPointError) as err:
            pending.append(SignalResult(value=None, status="error", message=f"{effect_info.name} failed on {spec.name!r}: {err}", **base))
            continue
        sketch = distribution_sketch(ref, cur)  # for the dashboard's per-feature sparkline
        if sketch is not None:
            details["histogram"] = sketch
        message = None
        if isinstance(ref, NumericProfile) and ref.std == 0:
            message = "the baseline column is constant; the effect is the raw Wasserstein distance"
        pending.append(SignalResult(value=effect, status="ok", p_value=p, effect_size=effect, message=message, details=details, **base))
    return [_floored(r) for r in judge(pending, context.alpha(signal), context.correction)]


# Tests whose p-value comes from a table that stops short of small levels.
P_VALUE_FLOOR = {"anderson": 0.001}


def _floored(r: SignalResult) -> SignalResult:
    """A chosen test whose p-value table stops above the level it is judged at cannot page."""
    floor = P_VALUE_FLOOR.get(str(r.details.get("test")))
    if floor is None or r.alpha is None or r.alpha >= floor or r.p_value is None or r.p_value > floor:
        return r
    return r.replace(
        status="warning",
        message=f"{r.details['test']} reports p <= {floor} (the end of its table), but this column is judged at "
        f"{r.alpha:.2g}: the change is reported, not paged; choose ks (or the default test) to page on it",
    )

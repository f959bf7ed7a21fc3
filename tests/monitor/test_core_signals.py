"""Signals on seeded data with a known answer: drift, dataset drift, quality, thresholds, BH.

The reference has four features; the window shifts ``a`` (numeric, +1 standard
deviation) and ``c`` (categorical, new mix) and leaves ``b`` and ``d`` alone.
Every statistic is checked against scipy or a direct recount.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import false_discovery_control, ks_2samp, wasserstein_distance

from monitor.baseline.reference import Baseline, create_baseline
from monitor.errors import NotFittedError, SchemaError
from monitor.metrics import METRICS
from monitor.profiles.column import NumericProfile
from monitor.profiles.dataset import DatasetProfile, build_profile
from monitor.signals.drift import compare_columns, dataset_drift_result, drift_results
from monitor.signals.evaluate import evaluate_profile, evaluate_window
from monitor.signals.results import SignalResult
from monitor.signals.thresholds import (
    ConstantThreshold,
    QuantileThreshold,
    StandardDeviationThreshold,
    ThresholdSpec,
    leave_chunk_out_scores,
)
from monitor.spec.model_version import parse_model_version
from monitor.spec.signal_config import DatasetDriftConfig, DriftConfig, QualityConfig, SignalConfig

MV = parse_model_version(
    {
        "name": "m", "version": "1", "task": "binary",
        "features": {"a": "numeric", "b": "numeric", "c": "categorical", "d": "categorical"},
        "scores": ["score"],
    }
)  # fmt: skip


def make_frame(n: int, seed: int, *, shift: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c_probs = [0.2, 0.3, 0.5] if shift else [0.5, 0.3, 0.2]
    return pd.DataFrame(
        {
            "request_id": [f"{seed}-{i}" for i in range(n)],
            "a": rng.normal(10.0 + (2.0 if shift else 0.0), 2.0, n),
            "b": rng.exponential(3.0, n),
            "c": rng.choice(["x", "y", "z"], n, p=c_probs),
            "d": rng.choice(["p", "q"], n, p=[0.7, 0.3]),
            "prediction": rng.choice(["0", "1"], n),
            "score": rng.random(n),
        }
    )


def by_feature(
    results: list[SignalResult], signal: str = "data_drift"
) -> dict[str | None, SignalResult]:
    return {r.feature: r for r in results if r.signal == signal}


# --- a large reference: binned distances ---------------------------------------------------


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return make_frame(3000, seed=1, shift=False)


@pytest.fixture(scope="module")
def baseline(ref: pd.DataFrame) -> Baseline:
    # reservoir smaller than the data: windows are judged from histograms, not samples
    return create_baseline(MV, ref, bins=1000, reservoir_size=400, seed=0, threads=1)


@pytest.fixture(scope="module")
def drifted(baseline: Baseline) -> tuple[pd.DataFrame, DatasetProfile]:
    cur = make_frame(2000, seed=2, shift=True)
    return cur, build_profile([cur], baseline.window_plan(), threads=1)


@pytest.fixture(scope="module")
def clean(baseline: Baseline) -> tuple[pd.DataFrame, DatasetProfile]:
    cur = make_frame(2000, seed=3, shift=False)
    return cur, build_profile([cur], baseline.window_plan(), threads=1)


def test_drift_is_found_in_the_shifted_features_only(
    baseline: Baseline, drifted: Any, clean: Any
) -> None:
    got = by_feature(
        drift_results(
            "data_drift", list(MV.monitored_features), baseline, drifted[1], DriftConfig()
        )
    )
    assert {f: r.status for f, r in got.items()} == {
        "a": "alert",
        "b": "ok",
        "c": "alert",
        "d": "ok",
    }
    assert {f: r.metric for f, r in got.items()} == {
        "a": "wasserstein", "b": "wasserstein", "c": "jensenshannon", "d": "jensenshannon",
    }  # fmt: skip
    assert all(r.details["computed_from"] in ("binned", "counts") for r in got.values())
    quiet = by_feature(
        drift_results("data_drift", list(MV.monitored_features), baseline, clean[1], DriftConfig())
    )
    assert {f: r.status for f, r in quiet.items()} == {"a": "ok", "b": "ok", "c": "ok", "d": "ok"}


def test_binned_wasserstein_matches_scipy(
    baseline: Baseline, ref: pd.DataFrame, drifted: Any, clean: Any
) -> None:
    """Binned on ~400 quantile bins vs scipy's exact W1 / np.std(ref): within 3e-3 absolute.

    Values are spread uniformly inside each bin, so the error is a fraction of one bin's
    share times its width; on these seeds it is at most 1.8e-3.
    """
    for cur, window in (drifted, clean):
        got = by_feature(
            drift_results(
                "data_drift", list(MV.monitored_features), baseline, window, DriftConfig()
            )
        )
        for col in ("a", "b"):
            expected = wasserstein_distance(ref[col], cur[col]) / np.std(ref[col])
            assert got[col].value == pytest.approx(expected, abs=3e-3), col
    # the shifted column moved by about one reference standard deviation
    assert by_feature(
        drift_results(
            "data_drift", list(MV.monitored_features), baseline, drifted[1], DriftConfig()
        )
    )["a"].value == pytest.approx(1.0, abs=0.1)


def test_jensenshannon_matches_scipy(baseline: Baseline, ref: pd.DataFrame, drifted: Any) -> None:
    cur, window = drifted
    got = by_feature(
        drift_results("data_drift", list(MV.monitored_features), baseline, window, DriftConfig())
    )
    for col in ("c", "d"):
        cats = sorted(set(ref[col]))
        p = ref[col].value_counts().reindex(cats).to_numpy()
        q = cur[col].value_counts().reindex(cats, fill_value=0).to_numpy()
        assert got[col].value == pytest.approx(jensenshannon(p, q), abs=1e-12), col
        assert got[col].threshold == 0.1


def test_exact_mode_uses_the_reservoir_samples(baseline: Baseline, drifted: Any) -> None:
    _, window = drifted
    got = by_feature(
        drift_results(
            "data_drift", list(MV.monitored_features), baseline, window, DriftConfig(exact=True)
        )
    )
    ref_sample = baseline.profile.reservoir.to_pandas()["a"].to_numpy()
    cur_sample = window.reservoir.to_pandas()["a"].to_numpy()
    assert len(ref_sample) == len(cur_sample) == 400
    expected = wasserstein_distance(ref_sample, cur_sample) / np.std(ref_sample)
    assert got["a"].details["computed_from"] == "exact"
    assert got["a"].value == pytest.approx(expected, rel=1e-12)


def test_dataset_drift_share(baseline: Baseline, drifted: Any) -> None:
    results = evaluate_profile(baseline, drifted[1], SignalConfig())
    ds = by_feature(results, "dataset_drift")[None]
    assert (ds.value, ds.threshold, ds.status) == (0.5, 0.5, "alert")  # 2 of 4 at the default 0.5
    assert ds.details == {"drifted_features": ["a", "c"], "weighted": False}
    features = [r for r in results if r.signal == "data_drift"]
    weighted = dataset_drift_result(
        features, DatasetDriftConfig(drift_share=0.6, importance={"a": 3, "b": 1, "c": 1, "d": 5})
    )
    assert weighted.value == pytest.approx((3 + 1) / 10) and weighted.status == "ok"
    strict = dataset_drift_result(features, DatasetDriftConfig(drift_share=0.75))
    assert (strict.value, strict.status) == (0.5, "ok")


def test_prediction_drift_covers_model_outputs(baseline: Baseline, drifted: Any) -> None:
    got = by_feature(evaluate_profile(baseline, drifted[1], SignalConfig()), "prediction_drift")
    assert set(got) == {"prediction", "score"}
    assert {r.status for r in got.values()} == {"ok"}  # outputs were not shifted


def test_results_do_not_depend_on_batch_boundaries(baseline: Baseline, drifted: Any) -> None:
    cur = drifted[0]
    whole = evaluate_window(baseline, [cur], threads=1)
    pieces = evaluate_window(
        baseline, [cur.iloc[i : i + 333] for i in range(0, len(cur), 333)], threads=1
    )
    data_signals = {"data_drift", "dataset_drift", "prediction_drift", "data_quality"}
    assert sum(r.signal in data_signals for r in whole.results) == 4 + 1 + 2 + 4 * 3
    assert len(whole.results) == len(pieces.results)
    for r1, r2 in zip(whole.results, pieces.results, strict=True):
        d1, d2 = r1.to_dict(), r2.to_dict()
        v1, v2 = d1.pop("value"), d2.pop("value")
        s1, s2 = d1.pop("statistic"), d2.pop("statistic")
        assert d1 == d2
        assert (v1 is None and v2 is None) or v1 == pytest.approx(v2, rel=1e-9)
        assert (s1 is None and s2 is None) or s1 == pytest.approx(s2, rel=1e-9)


def test_evaluation_is_deterministic_and_does_not_mutate_its_input(
    baseline: Baseline, drifted: Any
) -> None:
    cur = drifted[0]
    before = cur.copy(deep=True)
    first = evaluate_window(baseline, [cur], threads=1)
    second = evaluate_window(baseline, [cur], threads=2)
    pd.testing.assert_frame_equal(cur, before)
    assert [r.to_dict() for r in first.results] == [r.to_dict() for r in second.results]
    assert first.profile is not None and second.profile is not None
    assert first.profile.reservoir.table is not None
    assert first.profile.reservoir.table.equals(second.profile.reservoir.table)


def test_unknown_metric_for_a_column_is_an_error_result(baseline: Baseline, drifted: Any) -> None:
    got = by_feature(
        drift_results(
            "data_drift",
            list(MV.monitored_features),
            baseline,
            drifted[1],
            DriftConfig(methods={"c": "ks"}),
        )
    )
    assert got["c"].status == "error"
    assert got["c"].message is not None and got["c"].message.startswith(
        "metric 'ks' does not apply to categorical column 'c'; use one of ['psi', 'jensenshannon'"
    )
    assert got["a"].status == "alert"  # one failing column does not stop the others
    with pytest.raises(
        ValueError, match=r"method 'kolmogorov' for 'a' is unknown; available: ks, wasserstein"
    ):
        DriftConfig(methods={"a": "kolmogorov"})


# --- thresholds calibrated on the baseline ------------------------------------------------


def _hand_scores(baseline: Baseline, ref: pd.DataFrame, column: str) -> list[float]:
    """Leave-chunk-out by hand: chunk i against the raw rows of every *other* chunk."""
    plan = baseline.plan.__class__(**{**baseline.plan.__dict__, "reservoir_size": 0})
    bounds = np.linspace(0, len(ref), 11).astype(int)
    scores = []
    for lo, hi in itertools.pairwise(bounds):
        chunk = build_profile([ref.iloc[lo:hi]], plan, threads=1).columns[column]
        rest = build_profile([ref.drop(ref.index[lo:hi])], plan, threads=1).columns[column]
        assert isinstance(rest, NumericProfile) and isinstance(chunk, NumericProfile)
        scores.append(compare_columns(METRICS["wasserstein"], rest, chunk)[0].score)
    return scores


def test_std_threshold_is_calibrated_leave_chunk_out(
    baseline: Baseline, ref: pd.DataFrame, drifted: Any
) -> None:
    hand = _hand_scores(baseline, ref, "a")
    # the chunk is not part of its own reference: scoring chunk 0 against the whole
    # baseline (which contains it) gives a smaller distance
    chunk0 = baseline.chunks[0].columns["a"]
    inclusive = compare_columns(METRICS["wasserstein"], baseline.profile.columns["a"], chunk0)[
        0
    ].score
    assert inclusive < hand[0]
    lco = leave_chunk_out_scores(
        baseline.chunks,
        lambda r, c: (
            compare_columns(METRICS["wasserstein"], r.columns["a"], c.columns["a"])[0].score
        ),
        lambda x, y: x.merge(y),
    )
    assert lco == pytest.approx(hand, rel=1e-9)
    config = DriftConfig(thresholds={"wasserstein": ThresholdSpec(type="std", k=3)})
    got = by_feature(
        drift_results("data_drift", list(MV.monitored_features), baseline, drifted[1], config)
    )
    assert got["a"].threshold == pytest.approx(np.mean(hand) + 3 * np.std(hand, ddof=1), rel=1e-9)
    assert got["a"].details["threshold_type"] == "std"
    assert got["a"].status == "alert"
    assert got["c"].threshold == 0.1  # jensenshannon keeps its constant default


def test_quantile_and_constant_thresholds(
    baseline: Baseline, ref: pd.DataFrame, drifted: Any
) -> None:
    hand = _hand_scores(baseline, ref, "b")
    config = DriftConfig(
        thresholds={"b": ThresholdSpec(type="quantile", q=0.9), "a": ThresholdSpec(value=5.0)}
    )
    got = by_feature(
        drift_results("data_drift", list(MV.monitored_features), baseline, drifted[1], config)
    )
    assert got["b"].threshold == pytest.approx(np.quantile(hand, 0.9), rel=1e-9)
    assert got["b"].details["threshold_type"] == "quantile"
    assert (got["a"].threshold, got["a"].status) == (5.0, "ok")  # a loose constant: no alert


def test_threshold_objects() -> None:
    s = StandardDeviationThreshold(k=3).fit([0.02, 0.03, 0.025, 0.03, 0.02])
    scores = np.array([0.02, 0.03, 0.025, 0.03, 0.02])
    assert s.limit == pytest.approx(scores.mean() + 3 * scores.std(ddof=1))
    assert (s.classify(s.limit), s.classify(s.limit - 1e-9), s.classify(None)) == (
        "alert",
        "ok",
        "no_data",
    )
    below = StandardDeviationThreshold(k=2, direction="below").fit([0.5, 0.6, 0.7])
    assert below.limit == pytest.approx(0.6 - 2 * 0.1)
    assert (below.classify(0.39), below.classify(0.41)) == ("alert", "ok")
    floored = StandardDeviationThreshold(k=1, floor=0.5).fit([0.1, 0.1, 0.1])
    assert floored.limit == 0.5
    q = QuantileThreshold(q=0.75).fit([1.0, 2.0, 3.0, 4.0, 5.0])
    assert q.limit == np.quantile([1, 2, 3, 4, 5], 0.75)
    assert QuantileThreshold(q=0.75, direction="below").fit(
        [1.0, 2.0, 3.0, 4.0, 5.0]
    ).limit == np.quantile([1, 2, 3, 4, 5], 0.25)
    c = ConstantThreshold(0.1, warning=0.05)
    assert [c.classify(v) for v in (0.01, 0.05, 0.1, float("nan"))] == [
        "ok",
        "warning",
        "alert",
        "no_data",
    ]
    p = ConstantThreshold(0.05, direction="below")
    assert [p.classify(v) for v in (0.049, 0.05)] == ["alert", "ok"]


def test_threshold_errors() -> None:
    with pytest.raises(
        NotFittedError, match=r"StandardDeviationThreshold is not fitted; call fit\(scores\) first"
    ):
        _ = StandardDeviationThreshold().limit
    with pytest.raises(
        ValueError, match="the baseline gave no finite chunk scores; use a constant threshold"
    ):
        StandardDeviationThreshold().fit([float("nan"), float("inf")])
    with pytest.raises(SchemaError, match="needs a baseline stored with at least 2 chunks"):
        leave_chunk_out_scores([object()], lambda r, c: 0.0, lambda a, b: a)
    with pytest.raises(ValueError, match=r"k\s+Input should be greater than 0"):
        ThresholdSpec(type="std", k=0)


def test_calibrated_threshold_without_chunks_is_an_error_result() -> None:
    small = make_frame(150, seed=5, shift=False)  # 150 rows: one chunk, nothing to calibrate on
    b = create_baseline(MV, small, bins=50, reservoir_size=50, threads=1)
    window = build_profile([make_frame(100, seed=6, shift=False)], b.window_plan(), threads=1)
    config = DriftConfig(thresholds={"a": ThresholdSpec(type="std")})
    got = by_feature(drift_results("data_drift", list(MV.monitored_features), b, window, config))
    assert got["a"].status == "error"
    assert "at least 2 chunks" in (got["a"].message or "")


# --- a small reference: exact tests ---------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> tuple[Baseline, pd.DataFrame]:
    ref = make_frame(600, seed=7, shift=False)
    return create_baseline(MV, ref, bins=100, reservoir_size=10_000, threads=1), ref


def test_ks_on_a_small_reference_is_scipy_exact_ks_2samp(small: Any) -> None:
    baseline, ref = small
    cur = make_frame(300, seed=8, shift=True)
    window = build_profile([cur], baseline.window_plan(), threads=1)
    got = by_feature(
        drift_results("data_drift", list(MV.monitored_features), baseline, window, DriftConfig())
    )
    for col in ("a", "b"):
        expected = ks_2samp(ref[col], cur[col])
        assert got[col].metric == "ks"
        assert got[col].details["computed_from"] == "exact"
        assert got[col].p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
        assert got[col].statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert ks_2samp(ref["a"], cur["a"], method="exact").pvalue == pytest.approx(
        got["a"].p_value, rel=1e-9, abs=1e-300
    )
    assert (got["a"].status, got["b"].status) == ("alert", "ok")
    assert got["c"].metric == "chisquare" and got["c"].status == "alert"


def test_discrete_numeric_column_on_a_small_reference_uses_chisquare() -> None:
    # at most 5 distinct values: judged as categorical (chisquare on its one-value bins)
    mv = parse_model_version(
        {"name": "m", "version": "1", "task": "regression", "features": {"k": "numeric"}}
    )
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"k": rng.integers(0, 3, 400), "prediction": 0.0})
    cur = pd.DataFrame({"k": rng.choice(3, 300, p=[0.6, 0.2, 0.2]), "prediction": 0.0})
    b = create_baseline(mv, ref, bins=50, threads=1)
    got = by_feature(
        drift_results(
            "data_drift",
            list(mv.monitored_features),
            b,
            build_profile([cur], b.window_plan()),
            DriftConfig(),
        )
    )
    from scipy.stats import chi2_contingency

    table = np.array([np.bincount(ref["k"], minlength=3), np.bincount(cur["k"], minlength=3)])
    assert (got["k"].metric, got["k"].status) == ("chisquare", "alert")
    assert got["k"].p_value == pytest.approx(chi2_contingency(table).pvalue, rel=1e-9)


def test_benjamini_hochberg_matches_scipy(small: Any) -> None:
    baseline, _ = small
    cur = make_frame(300, seed=9, shift=True)
    window = build_profile([cur], baseline.window_plan(), threads=1)
    specs = list(MV.monitored_features)
    raw = by_feature(drift_results("data_drift", specs, baseline, window, DriftConfig()))
    bh = by_feature(
        drift_results("data_drift", specs, baseline, window, DriftConfig(bh_correction=True))
    )
    p = np.array([raw[f].p_value for f in ("a", "b", "c", "d")])
    expected = false_discovery_control(p, method="bh")
    for f, q in zip(("a", "b", "c", "d"), expected, strict=True):
        assert bh[f].value == pytest.approx(q, rel=1e-12, abs=1e-300)
        assert bh[f].details["p_value_raw"] == raw[f].p_value
        assert bh[f].details["correction"] == "benjamini-hochberg"
        assert bh[f].status == ("alert" if q < 0.05 else "ok")
    assert any(bh[f].value > raw[f].p_value for f in ("a", "b", "c", "d"))


def test_too_few_rows_is_no_data_with_the_count_needed(small: Any) -> None:
    baseline, _ = small
    window = build_profile([make_frame(12, seed=10, shift=True)], baseline.window_plan(), threads=1)
    results = evaluate_profile(baseline, window, SignalConfig())
    drift = by_feature(results)
    assert {r.status for r in drift.values()} == {"no_data"}
    assert drift["a"].message == "the window has only 12 values for 'a'; ks needs at least 30"
    quality = [r for r in results if r.signal == "data_quality"]
    assert quality and {r.status for r in quality} == {"no_data"}
    assert quality[0].message == "the window has 12 rows; data-quality rates need at least 30"
    assert by_feature(results, "dataset_drift")[None].status == "no_data"


# --- data quality ---------------------------------------------------------------------------


def test_quality_rates_equal_a_direct_recount(baseline: Baseline, ref: pd.DataFrame) -> None:
    rng = np.random.default_rng(12)
    cur = make_frame(400, seed=12, shift=False)
    a = cur["a"].astype(object)
    a[rng.random(400) < 0.1] = None
    a[rng.random(400) < 0.05] = "n/a?"  # not a number: a type error
    a[:7] = [1e6, -1e6, np.inf, -np.inf, ref["a"].max() + 1, ref["a"].min() - 1, ref["a"].max()]
    cur["a"] = a
    c = cur["c"].astype(object)
    c[rng.random(400) < 0.2] = None
    c[rng.random(400) < 0.1] = "unseen"
    cur["c"] = c
    window = build_profile([cur], baseline.window_plan(), threads=1)
    got = {
        (r.feature, r.metric): r
        for r in evaluate_profile(baseline, window, SignalConfig())
        if r.signal == "data_quality"
    }

    is_err = cur["a"].map(lambda v: isinstance(v, str)).to_numpy()
    num = pd.to_numeric(cur["a"], errors="coerce").to_numpy(dtype=float)
    nulls = np.isnan(num) & ~is_err
    lo, hi = ref["a"].min(), ref["a"].max()
    outside = np.isinf(num) | (np.isfinite(num) & ((num < lo) | (num > hi)))
    assert got[("a", "null_rate")].value == nulls.sum() / 400
    assert got[("a", "type_error_rate")].value == is_err.sum() / 400
    assert got[("a", "out_of_range_rate")].value == outside.sum() / 400 == 6 / 400
    cats = cur["c"]
    assert got[("c", "null_rate")].value == cats.isna().sum() / 400
    assert got[("c", "unseen_category_rate")].value == (cats == "unseen").sum() / 400
    # thresholds: baseline rate + 0.05
    assert got[("a", "null_rate")].threshold == pytest.approx(0.05)
    assert got[("a", "null_rate")].status == ("alert" if nulls.sum() / 400 > 0.05 else "ok")
    assert (
        got[("c", "null_rate")].status == "alert"
        and got[("c", "unseen_category_rate")].status == "alert"
    )
    assert got[("a", "type_error_rate")].status == ("alert" if is_err.sum() / 400 > 0.05 else "ok")
    assert got[("a", "out_of_range_rate")].status == "ok"  # 1.5 % <= 0 + 5 %


def test_quality_threshold_starts_from_the_baseline_rate() -> None:
    ref = make_frame(400, seed=13, shift=False)
    ref.loc[:39, "b"] = np.nan  # 10 % nulls in the baseline
    b = create_baseline(MV, ref, bins=50, reservoir_size=100, threads=1)
    cur = make_frame(200, seed=14, shift=False)
    cur.loc[:29, "b"] = np.nan  # 15 %: not above 10 % + 5 %
    window = build_profile([cur], b.window_plan(), threads=1)
    got = {
        (r.feature, r.metric): r
        for r in evaluate_profile(
            b, window, SignalConfig(data_quality=QualityConfig(max_increase=0.05))
        )
    }
    r = got[("b", "null_rate")]
    assert (r.value, r.threshold, r.details["baseline_rate"], r.status) == (
        0.15,
        pytest.approx(0.15),
        0.1,
        "ok",
    )
    cur.loc[:30, "b"] = np.nan  # 31 of 200 = 15.5 %
    window = build_profile([cur], b.window_plan(), threads=1)
    got = {(r.feature, r.metric): r for r in evaluate_profile(b, window, SignalConfig())}
    assert got[("b", "null_rate")].status == "alert"

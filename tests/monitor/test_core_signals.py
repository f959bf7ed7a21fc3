"""Data signals on seeded data with a known answer: drift, dataset drift, quality, the budget.

The reference has four features; the window shifts ``a`` (numeric, +1 standard
deviation) and ``c`` (categorical, new mix) and leaves ``b`` and ``d`` alone.
Every p-value and effect size is checked against scipy or a direct recount, and
every status against the rule "significant at the signal's share of the budget
(after Holm or Benjamini–Hochberg) **and** at least ``min_effect``".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy import stats
from scipy.stats import chi2_contingency, fisher_exact, ks_2samp, wasserstein_distance

from monitor.baseline.reference import Baseline, create_baseline
from monitor.metrics import METRICS
from monitor.metrics._two_sample import exceedance_test, holm_levels
from monitor.profiles.column import NumericProfile
from monitor.profiles.dataset import DatasetProfile, build_profile
from monitor.signals import SIGNALS
from monitor.signals.base import split_budget
from monitor.signals.column_drift import DEFAULT_MIN_EFFECT, DriftSettings
from monitor.signals.evaluate import evaluate_profile, evaluate_window
from monitor.signals.results import SignalResult
from monitor.signals.thresholds import SignificanceThreshold, judge
from monitor.spec.model_version import parse_model_version
from monitor.spec.signal_config import SignalConfig

MV = parse_model_version(
    {
        "name": "m", "version": "1", "task": "binary",
        "features": {"a": "numeric", "b": "numeric", "c": "categorical", "d": "categorical"},
        "scores": ["score"],
    }
)  # fmt: skip
DATA_SIGNALS = ("data_drift", "dataset_drift", "prediction_drift", "data_quality")


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


def config(**blocks: Any) -> SignalConfig:
    """The data signals only (model signals off), with ``blocks`` on top."""
    top = {k: blocks.pop(k) for k in ("alpha", "correction") if k in blocks}
    off = {name: {"enabled": False} for name in SIGNALS if name not in DATA_SIGNALS}
    return SignalConfig.model_validate({**off, **blocks, **top})


def share(cfg: SignalConfig, signal: str, mv: Any = MV) -> float:
    return split_budget(cfg.alpha, SIGNALS, cfg.signal_settings(), mv)[signal]


def by_feature(
    results: list[SignalResult], signal: str = "data_drift"
) -> dict[str | None, SignalResult]:
    return {r.feature: r for r in results if r.signal == signal}


def rank_sum_p(x: Any, y: Any) -> float:
    """scipy's Mann-Whitney p-value (normal law, tie-corrected, no continuity correction)."""
    return float(stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=False).pvalue)


def ks_p(x: Any, y: Any) -> Any:
    """scipy's KS: its exact law up to 100,000 pairs of values, the asymptotic one beyond."""
    return ks_2samp(x, y, method="exact" if len(x) * len(y) <= 100_000 else "asymp")


def bin_groups(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each value's bin on the baseline's edges: 0 below, len(edges) above, last bin closed."""
    idx = np.searchsorted(edges, values, side="right")
    return np.where(values == edges[-1], len(edges) - 1, idx)


def l_infinity(ref: pd.Series, cur: pd.Series) -> float:
    cats = sorted(set(ref) | set(cur))
    p = ref.value_counts(normalize=True).reindex(cats, fill_value=0.0)
    q = cur.value_counts(normalize=True).reindex(cats, fill_value=0.0)
    return float((p - q).abs().max())


# --- a large reference: binned tests and effects --------------------------------------------


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
    cfg = config()
    got = by_feature(evaluate_profile(baseline, drifted[1], cfg))
    assert {f: r.status for f, r in got.items()} == {
        "a": "alert",
        "b": "ok",
        "c": "alert",
        "d": "ok",
    }
    assert {f: r.metric for f, r in got.items()} == {
        "a": "wasserstein", "b": "wasserstein", "c": "l_infinity", "d": "l_infinity",
    }  # fmt: skip
    assert {f: r.details["test"] for f, r in got.items()} == {
        "a": "mann-whitney+ks (bonferroni)", "b": "mann-whitney+ks (bonferroni)",
        "c": "chi2 (pooled)", "d": "fisher_exact",
    }  # fmt: skip
    assert all(r.details["computed_from"] in ("binned", "counts") for r in got.values())
    for r in got.values():  # every result says why: p, level, effect, minimum effect, sizes
        assert r.p_value is not None and r.alpha is not None and r.correction == "holm"
        assert (
            r.effect_size == r.value and r.min_effect == r.threshold == DEFAULT_MIN_EFFECT[r.metric]
        )
        assert (r.reference_size, r.current_size) == (3000, 2000)
        assert (r.status == "alert") == (r.p_value < r.alpha and r.effect_size >= r.min_effect)
    quiet = by_feature(evaluate_profile(baseline, clean[1], cfg))
    assert {f: r.status for f, r in quiet.items()} == {"a": "ok", "b": "ok", "c": "ok", "d": "ok"}
    assert all(r.p_value is not None and r.p_value > 0.01 for r in quiet.values())


def test_binned_wasserstein_matches_scipy(
    baseline: Baseline, ref: pd.DataFrame, drifted: Any, clean: Any
) -> None:
    """Binned on 1000 quantile bins vs scipy's exact W1 / np.std(ref): within 3e-3 absolute."""
    for cur, window in (drifted, clean):
        got = by_feature(evaluate_profile(baseline, window, config()))
        for col in ("a", "b"):
            expected = wasserstein_distance(ref[col], cur[col]) / np.std(ref[col])
            assert got[col].value == pytest.approx(expected, abs=3e-3), col
    # the shifted column moved by about one reference standard deviation
    assert by_feature(evaluate_profile(baseline, drifted[1], config()))["a"].value == pytest.approx(
        1.0, abs=0.1
    )


def test_categorical_effect_is_the_largest_share_change(
    baseline: Baseline, ref: pd.DataFrame, drifted: Any, clean: Any
) -> None:
    for cur, window in (drifted, clean):
        got = by_feature(evaluate_profile(baseline, window, config()))
        for col in ("c", "d"):
            assert got[col].value == pytest.approx(l_infinity(ref[col], cur[col]), abs=1e-12), col
            assert got[col].threshold == 0.02
    # c moved from (0.5, 0.3, 0.2) to (0.2, 0.3, 0.5): about 0.3 share points
    assert by_feature(evaluate_profile(baseline, drifted[1], config()))["c"].value == pytest.approx(
        0.3, abs=0.03
    )


def test_p_values_are_rank_sum_and_binned_ks_and_chi_square(
    baseline: Baseline, ref: pd.DataFrame, drifted: Any, clean: Any
) -> None:
    for cur, window in (drifted, clean):
        got = by_feature(evaluate_profile(baseline, window, config()))
        for col in ("a", "b"):
            d = got[col].details
            edges = next(c.edges for c in baseline.plan.columns if c.spec.name == col)
            assert edges is not None
            # binned rank-sum: the values of one bin are ties
            x, y = ref[col].to_numpy(), cur[col].to_numpy()
            expected = rank_sum_p(bin_groups(x, edges), bin_groups(y, edges))
            assert d["p_location"] == pytest.approx(expected, rel=1e-9, abs=1e-300)
            # binned KS: never above the exact statistic, so its p-value is never below scipy's
            exact = ks_2samp(x, y, method="asymp")
            assert d["ks_statistic"] <= exact.statistic + 1e-12
            assert d["ks_statistic"] >= exact.statistic - 0.01  # 1000 bins: a few bins' share
            assert d["p_ks"] >= exact.pvalue * (1 - 1e-9)
            # the two tests are combined by Bonferroni; Welch's p-value is shown, not used
            assert got[col].p_value == pytest.approx(
                min(1.0, 2 * min(d["p_location"], d["p_ks"])), rel=1e-12
            )
            welch = stats.ttest_ind(x, y, equal_var=False).pvalue
            assert d["p_welch"] == pytest.approx(welch, rel=1e-6, abs=1e-300)
        table = pd.crosstab(
            pd.concat([ref["c"], cur["c"]]), np.repeat([0, 1], [len(ref), len(cur)])
        )
        expected = chi2_contingency(table.to_numpy(), correction=False)
        assert got["c"].p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
        assert got["c"].details["dof"] == 2
        d_table = [
            [(ref["d"] == "p").sum(), (cur["d"] == "p").sum()],
            [(ref["d"] == "q").sum(), (cur["d"] == "q").sum()],
        ]
        assert got["d"].p_value == pytest.approx(fisher_exact(d_table).pvalue, rel=1e-9)


def test_exact_mode_uses_the_reservoir_samples(baseline: Baseline, drifted: Any) -> None:
    _, window = drifted
    got = by_feature(evaluate_profile(baseline, window, config(data_drift={"exact": True})))
    ref_sample = baseline.profile.reservoir.to_pandas()["a"].to_numpy()
    cur_sample = window.reservoir.to_pandas()["a"].to_numpy()
    assert len(ref_sample) == len(cur_sample) == 400
    assert got["a"].details["computed_from"] == "exact"
    assert got["a"].details["p_ks"] == pytest.approx(
        ks_p(ref_sample, cur_sample).pvalue, rel=1e-9, abs=1e-300
    )
    assert got["a"].details["ks_statistic"] == pytest.approx(ks_p(ref_sample, cur_sample).statistic)
    assert got["a"].details["p_location"] == pytest.approx(
        rank_sum_p(ref_sample, cur_sample), rel=1e-9, abs=1e-300
    )
    assert got["a"].status == "alert"


def test_features_share_the_budget_by_holm(baseline: Baseline, drifted: Any, clean: Any) -> None:
    for alpha in (0.01, 0.05):
        cfg = config(alpha=alpha)
        level = share(cfg, "data_drift")
        assert level == pytest.approx(
            alpha * 2 / 4
        )  # weights: data drift 2, prediction drift 1, quality 1
        for _, window in (drifted, clean):
            got = by_feature(evaluate_profile(baseline, window, cfg))
            names = sorted(got)
            hand = holm_levels([got[f].p_value for f in names], level)
            assert [got[f].alpha for f in names] == pytest.approx(hand, rel=1e-12)
            assert all(got[f].correction == "holm" for f in names)


def test_benjamini_hochberg_option_matches_scipy(small: Any) -> None:
    baseline, _ = small
    cur = make_frame(300, seed=9, shift=True)
    window = build_profile([cur], baseline.window_plan(), threads=1)
    cfg = config(correction="benjamini-hochberg")
    bh = by_feature(evaluate_profile(baseline, window, cfg))
    holm = by_feature(evaluate_profile(baseline, window, config()))
    names = ("a", "b", "c", "d")
    p = np.array([bh[f].p_value for f in names])
    assert p.tolist() == [holm[f].p_value for f in names]  # the correction changes levels only
    significant = stats.false_discovery_control(p, method="bh") < share(cfg, "data_drift")
    for f, sig in zip(names, significant, strict=True):
        assert bh[f].correction == "benjamini-hochberg"
        assert (bh[f].status in ("warning", "alert")) == bool(sig), f
    assert sum(significant) >= 2


def test_dataset_drift_share(baseline: Baseline, drifted: Any) -> None:
    results = evaluate_profile(baseline, drifted[1], config())
    ds = by_feature(results, "dataset_drift")[None]
    assert (ds.value, ds.threshold, ds.status) == (0.5, 0.5, "alert")  # 2 of 4 at the default 0.5
    assert ds.details == {"drifted_features": ["a", "c"], "weighted": False}
    assert ds.correction == "holm" and ds.current_size == 4
    weighted = by_feature(
        evaluate_profile(
            baseline, drifted[1],
            config(dataset_drift={"drift_share": 0.6, "importance": {"a": 3, "b": 1, "c": 1, "d": 5}}),
        ),
        "dataset_drift",
    )[None]  # fmt: skip
    assert weighted.value == pytest.approx((3 + 1) / 10) and weighted.status == "ok"
    assert weighted.details["weighted"] is True
    heavy = by_feature(
        evaluate_profile(
            baseline,
            drifted[1],
            config(dataset_drift={"importance": {"a": 6, "b": 1, "c": 1, "d": 2}}),
        ),
        "dataset_drift",
    )[None]
    assert (heavy.value, heavy.status) == (pytest.approx(0.7), "alert")
    strict = by_feature(
        evaluate_profile(baseline, drifted[1], config(dataset_drift={"drift_share": 0.75})),
        "dataset_drift",
    )[None]
    assert (strict.value, strict.status) == (0.5, "ok")
    off = by_feature(
        evaluate_profile(baseline, drifted[1], config(data_drift={"enabled": False})),
        "dataset_drift",
    )[None]
    assert off.status == "no_data" and "data drift is switched off" in (off.message or "")


def test_prediction_drift_covers_model_outputs(baseline: Baseline, drifted: Any) -> None:
    cfg = config()
    got = by_feature(evaluate_profile(baseline, drifted[1], cfg), "prediction_drift")
    assert set(got) == {"prediction", "score"}
    assert {r.status for r in got.values()} == {"ok"}  # outputs were not shifted
    assert {r.metric for r in got.values()} == {"l_infinity", "wasserstein"}
    assert {r.correction for r in got.values()} == {"holm"}
    outputs = list(got.values())
    assert [r.alpha for r in outputs] == holm_levels(
        [r.p_value for r in outputs], share(cfg, "prediction_drift")
    )


def test_results_do_not_depend_on_batch_boundaries(baseline: Baseline, drifted: Any) -> None:
    cur = drifted[0]
    whole = evaluate_window(baseline, [cur], threads=1)
    pieces = evaluate_window(
        baseline, [cur.iloc[i : i + 333] for i in range(0, len(cur), 333)], threads=1
    )
    # 4 features, 1 dataset result, 2 outputs, 3 rates for each of the 4 features
    assert sum(r.signal in DATA_SIGNALS for r in whole.results) == 4 + 1 + 2 + 4 * 3
    assert len(whole.results) == len(pieces.results)
    floats = ("value", "statistic", "p_value", "effect_size")
    for r1, r2 in zip(whole.results, pieces.results, strict=True):
        d1, d2 = r1.to_dict(), r2.to_dict()
        got1, got2 = [d1.pop(k) for k in floats], [d2.pop(k) for k in floats]
        det1, det2 = d1.pop("details"), d2.pop("details")
        assert d1 == d2
        for v1, v2 in zip(got1, got2, strict=True):
            assert (v1 is None and v2 is None) or v1 == pytest.approx(v2, rel=1e-9, abs=1e-300)
        assert det1.keys() == det2.keys()
        for key, x in det1.items():  # e.g. p_welch: moments summed in another order
            y = det2[key]
            assert y == (pytest.approx(x, rel=1e-9, abs=1e-300) if isinstance(x, float) else x), key
    assert whole.details["alpha"] == 0.01


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


def test_per_column_metric_and_min_effect_overrides(baseline: Baseline, drifted: Any) -> None:
    _, window = drifted
    cfg = config(data_drift={"methods": {"a": "psi", "b": "ks", "c": "hellinger"}})
    got = by_feature(evaluate_profile(baseline, window, cfg))
    ra = baseline.profile.columns["a"]
    wa = window.columns["a"]
    assert isinstance(ra, NumericProfile) and isinstance(wa, NumericProfile)
    rh, ch = ra.histogram(), wa.histogram()
    assert rh is not None and ch is not None
    assert (got["a"].metric, got["a"].min_effect) == ("psi", 0.1)
    assert got["a"].value == pytest.approx(METRICS["psi"].binned(rh, ch).statistic, rel=1e-12)  # type: ignore[misc]
    assert got["a"].status == "alert"
    # a test as the method: it alone gives the p-value; the effect stays the default one
    assert (got["b"].metric, got["b"].details["test"]) == ("wasserstein", "ks")
    assert got["b"].p_value == pytest.approx(METRICS["ks"].binned(*(  # type: ignore[misc]
        baseline.profile.columns["b"].histogram(), window.columns["b"].histogram()  # type: ignore[union-attr]
    )).p_value, rel=1e-12)  # fmt: skip
    assert got["c"].metric == "hellinger" and got["c"].status == "alert"
    # min_effect by column wins over min_effect by metric: a significant but small change warns
    cfg = config(data_drift={"min_effect": {"a": 5.0, "l_infinity": 0.5}})
    got = by_feature(evaluate_profile(baseline, window, cfg))
    assert (got["a"].status, got["a"].min_effect, got["a"].threshold) == ("warning", 5.0, 5.0)
    assert (got["c"].status, got["c"].min_effect) == ("warning", 0.5)
    assert got["a"].p_value is not None and got["a"].alpha is not None
    assert got["a"].p_value < got["a"].alpha
    assert by_feature(evaluate_profile(baseline, window, cfg), "dataset_drift")[None].value == 0.0


def test_unknown_metric_for_a_column_is_an_error_result(baseline: Baseline, drifted: Any) -> None:
    got = by_feature(
        evaluate_profile(baseline, drifted[1], config(data_drift={"methods": {"c": "ks"}}))
    )
    assert got["c"].status == "error"
    assert got["c"].message is not None and got["c"].message.startswith(
        "metric 'ks' does not apply to categorical column 'c'; use one of ['psi', 'jensenshannon'"
    )
    assert got["a"].status == "alert"  # one failing column does not stop the others
    with pytest.raises(
        ValueError, match=r"method 'kolmogorov' for 'a' is unknown; available: ks, wasserstein"
    ):
        DriftSettings(methods={"a": "kolmogorov"})
    with pytest.raises(ValidationError, match=r"method 'kolmogorov' for 'a' is unknown"):
        SignalConfig.model_validate({"prediction_drift": {"methods": {"a": "kolmogorov"}}})
    with pytest.raises(ValidationError, match=r"min_effect values must be finite and >= 0"):
        DriftSettings(min_effect={"a": -1.0})


def test_a_sample_only_test_on_a_binned_window_is_an_error_result(
    baseline: Baseline, drifted: Any
) -> None:
    # The reservoirs hold 400 of 3000 and 2000 rows: Anderson-Darling has no binned form.
    results = evaluate_profile(
        baseline, drifted[1], config(data_drift={"methods": {"a": "anderson"}})
    )
    got = by_feature(results)
    assert got["a"].status == "error"
    assert "anderson needs the raw values of both sides" in (got["a"].message or "")
    assert "set `exact: true`" in (got["a"].message or "")
    exact = by_feature(
        evaluate_profile(
            baseline, drifted[1], config(data_drift={"methods": {"a": "anderson"}, "exact": True})
        )
    )
    assert exact["a"].status == "alert" and exact["a"].details["test"] == "anderson"
    assert got["c"].status == "alert"  # the other columns are still judged


# --- the threshold model --------------------------------------------------------------------


def test_significance_threshold_classify() -> None:
    t = SignificanceThreshold(alpha=0.001, min_effect=0.05)
    cases = [
        ((1e-6, 0.30), "alert"),
        ((1e-6, -0.30), "alert"),  # the size counts, not its sign
        ((1e-6, 0.05), "alert"),  # at the minimum effect
        ((1e-6, 0.049), "warning"),  # significant but small
        ((1e-6, None), "warning"),
        ((1e-6, math.nan), "warning"),
        ((0.001, 0.30), "ok"),  # p must be below alpha
        ((0.2, 0.30), "ok"),
        ((None, 0.30), "no_data"),
        ((math.nan, 0.30), "no_data"),
    ]
    for (p, effect), status in cases:
        assert t.classify(p_value=p, effect=effect) == status, (p, effect)
    assert (
        SignificanceThreshold(alpha=0.0, min_effect=0.0).classify(p_value=0.0, effect=1.0) == "ok"
    )
    for bad in (
        {"alpha": 1.0, "min_effect": 0.1},
        {"alpha": -0.1, "min_effect": 0.1},
        {"alpha": 0.01, "min_effect": -1.0},
        {"alpha": 0.01, "min_effect": math.nan},
    ):
        with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\)|min_effect must be >= 0"):
            SignificanceThreshold(**bad)


def _pending(
    p: float | None, effect: float, status: str = "ok", min_effect: float = 0.1
) -> SignalResult:
    return SignalResult(
        signal="data_drift", feature=f"f{p}", metric="wasserstein", value=effect, status=status,  # type: ignore[arg-type]
        p_value=p, effect_size=effect, min_effect=min_effect,
    )  # fmt: skip


def test_judge_applies_holm_levels() -> None:
    pending = [
        _pending(0.001, 0.5),  # smallest of 5: level 0.05 / 5 -> significant, large: alert
        _pending(0.002, 0.02),  # second: 0.05 / 4 -> significant but below min_effect: warning
        _pending(0.02, 0.9),  # third: 0.05 / 3 = 0.0167 -> not significant: Holm stops here
        _pending(0.021, 0.9),  # would pass its own 0.05 / 2, but is judged at the stopping level
        _pending(0.049, 0.9),  # would pass its own 0.05 / 1, idem
        _pending(None, 0.3, "no_data"),
        SignalResult(
            signal="data_drift",
            feature="e",
            metric="wasserstein",
            value=None,
            status="error",
            message="boom",
        ),
    ]
    out = judge(pending, 0.05)
    assert [r.status for r in out] == ["alert", "warning", "ok", "ok", "ok", "no_data", "error"]
    assert [r.alpha for r in out[:5]] == pytest.approx([0.01, 0.0125, 0.05 / 3, 0.05 / 3, 0.05 / 3])
    assert [r.alpha for r in out[:5]] == holm_levels([r.p_value for r in pending[:5]], 0.05)
    assert {r.correction for r in out[:5]} == {"holm"}
    assert out[5] == pending[5] and out[6] == pending[6]  # passed through untouched
    assert [r.effect_size for r in out[:5]] == [r.effect_size for r in pending[:5]]
    # one test: no correction to state
    single = judge([_pending(0.02, 0.5)], 0.04)
    assert (single[0].status, single[0].alpha, single[0].correction) == ("alert", 0.04, "none")
    assert judge([], 0.04) == []


def test_judge_with_benjamini_hochberg_rejects_more_than_holm() -> None:
    ps = [0.011, 0.012, 0.013, 0.014, 0.6]
    pending = [_pending(p, 1.0) for p in ps]
    holm = judge(pending, 0.05)
    bh = judge(pending, 0.05, "benjamini-hochberg")
    assert [r.status for r in holm] == ["ok"] * 5  # 0.011 >= 0.05 / 5: Holm rejects nothing
    assert [r.status for r in bh] == ["alert"] * 4 + ["ok"]  # 0.014 <= 4 * 0.05 / 5
    expected = stats.false_discovery_control(ps, method="bh") < 0.05
    assert [r.status == "alert" for r in bh] == expected.tolist()
    assert {r.correction for r in bh} == {"benjamini-hochberg"}
    assert [r.alpha for r in bh] == pytest.approx([0.04] * 5)


def test_removed_threshold_keys_say_what_replaces_them() -> None:
    with pytest.raises(
        ValidationError,
        match=r"signals\.data_drift\.thresholds is no longer supported: .*`alpha`.*`min_effect`",
    ):
        SignalConfig.model_validate(
            {"data_drift": {"thresholds": {"wasserstein": {"type": "std", "k": 3}}}}
        )
    with pytest.raises(
        ValidationError,
        match=r"signals\.data_drift\.bh_correction is no longer supported: set `correction: benjamini-hochberg`",
    ):
        SignalConfig.model_validate({"data_drift": {"bh_correction": True}})
    with pytest.raises(
        ValidationError,
        match=r"signals\.data_quality\.max_increase is no longer supported: set `min_effect`",
    ):
        SignalConfig.model_validate({"data_quality": {"max_increase": 0.05}})
    with pytest.raises(ValidationError, match="alpha"):
        SignalConfig(alpha=0.0)
    with pytest.raises(ValidationError, match="alpha"):
        SignalConfig(alpha=0.5)
    with pytest.raises(ValidationError, match="correction"):
        SignalConfig.model_validate({"correction": "bonferroni-ish"})
    with pytest.raises(ValidationError, match="no_such_signal"):
        SignalConfig.model_validate({"no_such_signal": {}})


# --- a small reference: exact tests ---------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> tuple[Baseline, pd.DataFrame]:
    ref = make_frame(600, seed=7, shift=False)
    return create_baseline(MV, ref, bins=100, reservoir_size=10_000, threads=1), ref


def test_tests_on_a_small_reference_are_scipy_on_the_values(small: Any) -> None:
    baseline, ref = small
    cur = make_frame(300, seed=8, shift=True)
    window = build_profile([cur], baseline.window_plan(), threads=1)
    got = by_feature(evaluate_profile(baseline, window, config()))
    for col in ("a", "b"):
        expected = ks_p(ref[col], cur[col])  # 600 x 300 pairs: the asymptotic law
        d = got[col].details
        assert d["computed_from"] == "exact"
        assert d["p_ks"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
        assert d["ks_statistic"] == pytest.approx(expected.statistic, rel=1e-12)
        assert d["p_location"] == pytest.approx(
            rank_sum_p(ref[col], cur[col]), rel=1e-9, abs=1e-300
        )
        assert got[col].p_value == pytest.approx(
            min(1.0, 2 * min(d["p_location"], d["p_ks"])), rel=1e-12
        )
    assert (got["a"].status, got["b"].status) == ("alert", "ok")
    table = pd.crosstab(pd.concat([ref["c"], cur["c"]]), np.repeat([0, 1], [600, 300])).to_numpy()
    assert got["c"].p_value == pytest.approx(
        chi2_contingency(table, correction=False).pvalue, rel=1e-9, abs=1e-300
    )
    assert got["c"].status == "alert"


def test_discrete_numeric_column_is_tested_on_its_values() -> None:
    mv = parse_model_version(
        {"name": "m", "version": "1", "task": "regression", "features": {"k": "numeric"}}
    )
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"k": rng.integers(0, 3, 400), "prediction": 0.0})
    cur = pd.DataFrame({"k": rng.choice(3, 300, p=[0.6, 0.2, 0.2]), "prediction": 0.0})
    b = create_baseline(mv, ref, bins=50, threads=1)
    got = by_feature(evaluate_profile(b, build_profile([cur], b.window_plan()), config()))["k"]
    x, y = ref["k"].to_numpy(float), cur["k"].to_numpy(float)
    expected = min(1.0, 2 * min(rank_sum_p(x, y), ks_p(x, y).pvalue))
    assert (got.metric, got.status, got.details["computed_from"]) == (
        "wasserstein",
        "alert",
        "exact",
    )
    assert got.p_value == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert got.value == pytest.approx(wasserstein_distance(x, y) / np.std(x), abs=1e-9)


def test_too_few_rows_is_no_data_with_the_count_needed(small: Any) -> None:
    baseline, _ = small
    window = build_profile([make_frame(12, seed=10, shift=True)], baseline.window_plan(), threads=1)
    results = evaluate_profile(baseline, window, config())
    drift = by_feature(results)
    assert {r.status for r in drift.values()} == {"no_data"}
    assert drift["a"].message == "the window has only 12 values for 'a'; drift needs at least 30"
    quality = [r for r in results if r.signal == "data_quality"]
    assert quality and {r.status for r in quality} == {"no_data"}
    assert quality[0].message == "the window has 12 rows; data-quality rates need at least 30"
    ds = by_feature(results, "dataset_drift")[None]
    assert ds.status == "no_data" and ds.message == "no feature could be judged in this window"
    # min_rows is a setting
    lowered = by_feature(evaluate_profile(baseline, window, config(data_drift={"min_rows": 10})))
    assert {r.status for r in lowered.values()} <= {"ok", "warning", "alert"}


# --- data quality ---------------------------------------------------------------------------


def fisher_greater(k_ref: int, n_ref: int, k_cur: int, n_cur: int) -> float:
    return float(
        fisher_exact([[k_cur, n_cur - k_cur], [k_ref, n_ref - k_ref]], alternative="greater").pvalue
    )


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
    cfg = config()
    results = [r for r in evaluate_profile(baseline, window, cfg) if r.signal == "data_quality"]
    got = {(r.feature, r.metric): r for r in results}
    assert len(results) == 12

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
    # p-values: one-sided Fisher on the counts (the baseline has no nulls and no type errors)
    assert got[("a", "null_rate")].p_value == pytest.approx(
        fisher_greater(0, 3000, int(nulls.sum()), 400), rel=1e-9
    )
    assert got[("a", "type_error_rate")].p_value == pytest.approx(
        fisher_greater(0, 3000, int(is_err.sum()), 400), rel=1e-9
    )
    assert got[("c", "null_rate")].p_value == pytest.approx(
        fisher_greater(0, 3000, int(cats.isna().sum()), 400), rel=1e-9
    )
    # out of range: beta-binomial tail of 6 of 400 against 3000 continuous reference values
    oor = got[("a", "out_of_range_rate")]
    assert oor.p_value == pytest.approx(exceedance_test(6, 400, 3000), rel=1e-12)
    assert oor.details["baseline_rate"] == pytest.approx(2 / 3001)
    assert (oor.details["baseline_min"], oor.details["baseline_max"]) == (lo, hi)
    assert (oor.details["window_min"], oor.details["window_max"], oor.details["infinities"]) == (
        -1e6,
        1e6,
        2,
    )
    # thresholds: baseline rate + min_effect (0.02)
    assert got[("a", "null_rate")].threshold == pytest.approx(0.02)
    assert got[("a", "null_rate")].status == "alert"
    assert got[("a", "type_error_rate")].status == "alert"
    assert got[("c", "null_rate")].status == "alert"
    unseen = got[("c", "unseen_category_rate")]
    assert unseen.status == "alert" and unseen.message == "new categories: unseen"
    assert unseen.details["new_categories"] == ["unseen"]
    # 1.5 % out of range is significant but less than 2 points above the baseline: a warning
    assert oor.p_value is not None and oor.alpha is not None and oor.p_value < oor.alpha
    assert oor.status == "warning"
    # the rates of the untouched features are fine, and the budget is corrected by Holm
    assert {r.status for r in results if r.feature in ("b", "d")} == {"ok"}
    ps = [r.p_value for r in results]
    assert [r.alpha for r in results] == holm_levels(ps, share(cfg, "data_quality"))


def test_quality_threshold_starts_from_the_baseline_rate() -> None:
    ref = make_frame(400, seed=13, shift=False)
    ref.loc[:39, "b"] = np.nan  # 10 % nulls in the baseline
    b = create_baseline(MV, ref, bins=50, reservoir_size=100, threads=1)

    def null_rate(null_rows: int, **quality: Any) -> SignalResult:
        cur = make_frame(200, seed=14, shift=False)
        cur.loc[: null_rows - 1, "b"] = np.nan
        window = build_profile([cur], b.window_plan(), threads=1)
        out = evaluate_profile(b, window, config(data_quality=quality))
        return next(
            r for r in out if (r.signal, r.feature, r.metric) == ("data_quality", "b", "null_rate")
        )

    r = null_rate(30, min_effect=0.05)  # 15 %: 5 points above 10 %, not significant at 200 rows
    assert (r.value, r.threshold, r.details["baseline_rate"], r.effect_size) == (
        0.15, pytest.approx(0.15), 0.1, pytest.approx(0.05),
    )  # fmt: skip
    assert r.p_value == pytest.approx(fisher_greater(40, 400, 30, 200), rel=1e-9)
    assert r.status == "ok"
    r = null_rate(100)  # 50 %: significant and far above 10 % + 2 points
    assert (r.value, r.threshold, r.status) == (0.5, pytest.approx(0.12), "alert")
    r = null_rate(100, min_effect=0.5)  # the same rise, below a minimum effect of 50 points
    assert (r.threshold, r.status) == (pytest.approx(0.6), "warning")
    r = null_rate(10)  # 5 %: fewer nulls than the baseline is never an alert
    assert r.status == "ok" and r.p_value is not None and r.p_value > 0.9


def test_a_chosen_test_whose_table_stops_above_the_level_warns_instead_of_paging(
    baseline: Baseline, drifted: Any
) -> None:
    # alpha 0.001: data drift's share is 0.0005, the first Holm level 0.000125, below the
    # 0.001 where scipy's Anderson-Darling table stops: the change is reported, not paged.
    cfg = config(alpha=0.001, data_drift={"methods": {"a": "anderson"}, "exact": True})
    got = by_feature(evaluate_profile(baseline, drifted[1], cfg))
    assert got["a"].effect_size is not None and got["a"].effect_size > 0.5  # a 1-sigma shift
    assert got["a"].p_value == pytest.approx(0.001) and got["a"].alpha is not None and got["a"].alpha < 0.001
    assert got["a"].status == "warning"
    assert "choose ks" in (got["a"].message or "")
    # the default test on the same column pages
    default = by_feature(evaluate_profile(baseline, drifted[1], config(alpha=0.001)))
    assert default["a"].status == "alert"

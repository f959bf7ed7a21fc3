"""Causal effects on seeded linear data with a known effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from rai.components.causal import run_causal
from rai.config import RaiConfig
from rai.validate import validate_inputs

TRUE_EFFECT = 2.0


def linear_data(n_rows: int, *, seed: int, binary_treatment: bool = False) -> pd.DataFrame:
    """``y = 2 t + w0 + 0.5 w1 + 0.5 [group == b] + noise``; ``t`` is confounded by ``w0``."""
    rng = np.random.default_rng(seed)
    w0, w1 = rng.normal(size=n_rows), rng.normal(size=n_rows)
    group = rng.choice(["a", "b"], size=n_rows)
    t = 0.8 * w0 + rng.normal(size=n_rows)
    if binary_treatment:
        t = (t > 0).astype(float)
    y = TRUE_EFFECT * t + w0 + 0.5 * w1 + 0.5 * (group == "b") + rng.normal(scale=0.5, size=n_rows)
    return pd.DataFrame({"t": t, "w0": w0, "w1": w1, "group": group, "y": y})


def _inputs(frame: pd.DataFrame, treatments: tuple[str, ...] = ("t",), **causal: object):
    config = RaiConfig.from_dict(
        {
            "target": "y",
            "task": "regression",
            "treatment_features": list(treatments),
            "categorical_features": ["group"],
            "components": ["causal"],
            "causal": {"refutation_simulations": 50, "subset_refits": 2, "data": "train", **causal},
        }
    )
    features = frame.drop(columns="y").assign(group=lambda f: (f["group"] == "b").astype(float))
    model = LinearRegression().fit(features, frame["y"])

    class Wrapped:
        def predict(self, x: pd.DataFrame) -> np.ndarray:
            return model.predict(x.assign(group=(x["group"] == "b").astype(float)))

    return validate_inputs(Wrapped(), frame, frame.iloc[:50], config)


@pytest.mark.parametrize("binary_treatment", [False, True])
def test_linear_estimate_covers_known_effect_and_placebo_passes(binary_treatment: bool) -> None:
    frame = linear_data(1000, seed=1, binary_treatment=binary_treatment)
    result = run_causal(_inputs(frame, estimator="linear"))
    effect = result.summary["effects"][0]
    assert effect["ci_low"] <= TRUE_EFFECT <= effect["ci_high"]
    assert effect["p_value"] < 1e-6
    checks = {r["refutation"]: r for r in result.summary["refutations"]}
    assert checks["placebo_treatment"]["passed"]
    assert abs(checks["placebo_treatment"]["new_effect"]) < 0.2
    assert checks["placebo_treatment"]["p_value_vs_placebo"] == pytest.approx(1 / 51)
    assert checks["data_subset"]["passed"]
    assert checks["unobserved_confounder_sensitivity"]["passed"]


def test_confounding_is_adjusted_for() -> None:
    frame = linear_data(1000, seed=2)
    naive = np.polyfit(frame["t"], frame["y"], 1)[0]
    assert naive > TRUE_EFFECT + 0.3  # the naive slope is biased by w0
    result = run_causal(_inputs(frame, estimator="linear"))
    assert result.summary["effects"][0]["effect"] == pytest.approx(TRUE_EFFECT, abs=0.1)


def test_dml_estimate_with_individual_effects_and_policy() -> None:
    frame = linear_data(800, seed=3, binary_treatment=True)
    result = run_causal(_inputs(frame, estimator="dml", individual_effects=True))
    effect = result.summary["effects"][0]
    assert "LinearDML" in effect["method"]
    assert effect["ci_low"] <= TRUE_EFFECT <= effect["ci_high"]
    assert result.summary["refutations"][0]["passed"]
    individual = result.tables["individual_effects"]
    overlap = effect["overlap"]
    inside = round(len(frame) * (1 - overlap["share_outside"]))
    assert len(individual) == inside  # only rows inside the overlap bounds
    policy = result.summary["policies"]["t"]
    assert sum(s["size"] for s in policy["segments"]) == inside


def test_two_treatments_each_recovered() -> None:
    frame = linear_data(1000, seed=4)
    inputs = _inputs(frame, ("w1", "t"), estimator="linear")
    effects = {e["treatment"]: e for e in run_causal(inputs).summary["effects"]}
    assert effects["w1"]["ci_low"] <= 0.5 <= effects["w1"]["ci_high"]
    assert effects["t"]["ci_low"] <= TRUE_EFFECT <= effects["t"]["ci_high"]


def test_user_graph_is_used_for_adjustment() -> None:
    frame = linear_data(1000, seed=5)
    graph = "digraph { w0 -> t; w0 -> y; w1 -> y; t -> y; group_b -> y; }"
    result = run_causal(_inputs(frame, estimator="linear", graph=graph))
    effect = result.summary["effects"][0]
    assert effect["ci_low"] <= TRUE_EFFECT <= effect["ci_high"]
    # without adjusting for the confounder w0 the estimate would be far off
    unadjusted = "digraph { t -> y; w1 -> y; group_b -> y; }"
    biased = run_causal(
        _inputs(frame, estimator="linear", graph=unadjusted)
    )
    assert biased.summary["effects"][0]["ci_low"] > TRUE_EFFECT


def test_treatments_in_parallel_match_sequential() -> None:
    frame = linear_data(600, seed=6)
    sequential = run_causal(_inputs(frame, ("w1", "t"), estimator="linear", n_jobs=1))
    parallel = run_causal(_inputs(frame, ("w1", "t"), estimator="linear", n_jobs=2))
    # worker processes may use another BLAS thread count: equal up to rounding
    pd.testing.assert_frame_equal(
        parallel.tables["effects"], sequential.tables["effects"], rtol=1e-9
    )
    pd.testing.assert_frame_equal(
        parallel.tables["refutations"], sequential.tables["refutations"], rtol=1e-9
    )

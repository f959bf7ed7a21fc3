"""Explanations rank the truly important features first, for tree and non-tree models."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import base_config, forest_pipeline, known_classification, known_regression
from sklearn.compose import ColumnTransformer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from rai.components.explanation import run_explanation
from rai.config import RaiConfig
from rai.validate import validate_inputs

TRULY_IMPORTANT = {"x_strong", "colour"}


def _inputs(model, train, test, **overrides):
    return validate_inputs(model, train, test, RaiConfig.from_dict(base_config(**overrides)))


def test_tree_model_ranks_true_drivers_first_with_exact_shap(binary_data) -> None:
    train, test, model = binary_data
    result = run_explanation(_inputs(model, train, test))
    assert set(result.summary["top_features"][:2]) == TRULY_IMPORTANT
    assert set(result.summary["top_features_shap"][:2]) == TRULY_IMPORTANT
    shap_info = result.summary["shap"]
    assert shap_info["method"].startswith("shap.TreeExplainer")
    assert shap_info["additivity_max_error"] < 1e-6
    # attributions + base value reproduce the real model's probability for every row
    local = result.tables["local_attributions"]
    per_row = local.groupby("row")["shap_value"].sum().to_numpy() + shap_info["base_values"][0]
    expected = model.predict_proba(test.drop(columns="label").iloc[:20])[:, 1]
    np.testing.assert_allclose(per_row, expected, atol=1e-6)
    assert result.summary["surrogate"] is None


def test_permutation_importance_equals_sklearn_with_same_seed(binary_data) -> None:
    train, test, model = binary_data
    result = run_explanation(_inputs(model, train, test))
    x, y = test.drop(columns="label"), test["label"]
    direct = permutation_importance(
        model,
        x,
        y,
        n_repeats=3,
        random_state=0,
        scoring=lambda est, xx, yy: roc_auc_score(yy == 1, est.predict_proba(xx)[:, 1]),
    )
    table = result.tables["permutation_importance"].set_index("feature")
    np.testing.assert_allclose(
        table.loc[list(x.columns), "importance_mean"], direct.importances_mean
    )
    assert (table["ci_low"] <= table["importance_mean"]).all()
    assert (table["ci_high"] >= table["importance_mean"]).all()


def test_non_tree_model_uses_model_agnostic_shap_on_real_model(binary_data) -> None:
    train, test, _ = binary_data
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(), ["colour", "sex"])], remainder=StandardScaler()
    )
    model = Pipeline([("encode", encode), ("lr", LogisticRegression())])
    model.fit(train.drop(columns="label"), train["label"])
    result = run_explanation(_inputs(model, train, test))
    assert result.summary["shap"]["method"].startswith("shap.KernelExplainer")
    assert result.summary["shap"]["additivity_max_error"] < 1e-6
    assert set(result.summary["top_features_shap"][:2]) == TRULY_IMPORTANT
    assert set(result.summary["top_features"][:2]) == TRULY_IMPORTANT


def test_multiclass_attributions_per_class() -> None:
    frame = known_classification(500, n_classes=3)
    train, test = frame.iloc[:400], frame.iloc[400:]
    model = forest_pipeline(train)
    result = run_explanation(
        _inputs(
            model, train, test, task="multiclass", gates=[], counterfactual={"desired_class": "a"}
        )
    )
    assert result.summary["shap"]["outputs"] == ["a", "b", "c"]
    assert set(result.tables["local_attributions"]["output"]) == {"a", "b", "c"}
    assert result.summary["top_features"][0] == "x_strong"


@pytest.mark.parametrize("rows", [20])
def test_regression_ranking(rows: int) -> None:
    frame = known_regression(500)
    train, test = frame.iloc[:400], frame.iloc[400:]
    model = forest_pipeline(train, regression=True)
    config = base_config(task="regression", gates=[], counterfactual={"desired_range": [0, 1]})
    result = run_explanation(validate_inputs(model, train, test, RaiConfig.from_dict(config)))
    assert set(result.summary["top_features"][:2]) == TRULY_IMPORTANT
    assert result.summary["permutation"]["scoring"] == "r2"
    assert result.summary["shap"]["additivity_max_error"] < 1e-6
    assert len(result.tables["local_attributions"]) == rows * 5


def _path_dependent_value(forest, row: np.ndarray, subset: set[int]) -> float:
    """E[f(x_S, X_rest)] with the rest integrated over each tree's training cover."""

    def expect(t, node: int) -> float:
        if t.children_left[node] == t.children_right[node]:
            value = t.value[node][0]
            return float(value[1] / value.sum())
        left, right = t.children_left[node], t.children_right[node]
        if t.feature[node] in subset:
            return expect(t, left if row[t.feature[node]] <= t.threshold[node] else right)
        w_left, w_right = t.weighted_n_node_samples[left], t.weighted_n_node_samples[right]
        return (w_left * expect(t, left) + w_right * expect(t, right)) / (w_left + w_right)

    return float(np.mean([expect(tree.tree_, 0) for tree in forest.estimators_]))


def _shapley(value, n: int) -> np.ndarray:
    from itertools import combinations
    from math import factorial

    out = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            weight = factorial(size) * factorial(n - size - 1) / factorial(n)
            for subset in combinations(others, size):
                out[i] += weight * (value({*subset, i}) - value(set(subset)))
    return out


@pytest.mark.parametrize(
    ("kind", "perturbation"),
    [("forest", "auto"), ("forest", "interventional"), ("boosted", "auto")],
)
def test_tree_shap_in_probability_space_and_unused_feature_is_zero(
    kind: str, perturbation: str
) -> None:
    """Tree SHAP against a brute-force enumeration of every coalition.

    A forest's raw output is the probability: path-dependent TreeSHAP equals the exact
    Shapley values of v(S) = E[f(x_S, X_rest)] over each tree's cover, and the
    interventional one those of v(S) = mean_b f(x_S, b_rest). Boosted trees output
    log-odds: shap explains them in probability by rescaling exact log-odds values per
    background row, additive against predict_proba but only close to the enumeration.
    """
    import pandas as pd
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

    rng = np.random.default_rng(0)
    n = 500
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.normal(size=n),
            "unused": np.zeros(n),  # constant in training: no tree can split on it
        }
    )
    frame["label"] = (frame["a"] + 0.5 * frame["b"] * frame["c"] + rng.normal(size=n) > 0).astype(
        int
    )
    model = (
        GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0)
        if kind == "boosted"
        else RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)
    )
    model.fit(frame.drop(columns="label"), frame["label"])
    test = frame.iloc[:40].copy()
    test["unused"] = rng.normal(size=40)  # varies where it is explained
    config = base_config(
        categorical_features=[],
        sensitive_features=[],
        treatment_features=[],
        components=["explanation"],
        gates=[],
        explanation={
            "local_rows": 5,
            "tree_background_rows": 25,
            "permutation_repeats": 2,
            "tree_perturbation": perturbation,
        },
    )
    result = run_explanation(validate_inputs(model, frame, test, RaiConfig.from_dict(config)))
    info = result.summary["shap"]
    path_dependent = kind == "forest" and perturbation == "auto"
    expected_method = (
        "shap.TreeExplainer (exact, tree_path_dependent)"
        if path_dependent
        else "shap.TreeExplainer (exact, interventional, probability"
    )
    assert info["method"].startswith(expected_method)
    assert info["output_space"] == "probability"
    assert info["additivity_max_error"] < 1e-6
    local = result.tables["local_attributions"].pivot(
        index="row", columns="feature", values="shap_value"
    )
    assert (local["unused"] == 0).all()
    features = ["a", "b", "c", "unused"]
    background = frame[features].sample(n=25, random_state=0).to_numpy()  # the same sample

    def predict(matrix: np.ndarray) -> np.ndarray:
        return model.predict_proba(pd.DataFrame(matrix, columns=features))[:, 1]

    tolerance = 0.01 if kind == "boosted" else 1e-8
    for row in range(5):
        x = test[features].to_numpy()[row]
        if path_dependent:
            expected = _shapley(lambda s, x=x: _path_dependent_value(model, x, s), 4)
        else:

            def value(subset: set[int], x=x) -> float:
                mixed = background.copy()
                mixed[:, sorted(subset)] = x[sorted(subset)]
                return float(predict(mixed).mean())

            expected = _shapley(value, 4)
        np.testing.assert_allclose(local.loc[row, features].to_numpy(), expected, atol=tolerance)
    per_row = local[features].sum(axis=1).to_numpy() + info["base_values"][0]
    np.testing.assert_allclose(
        per_row, model.predict_proba(test[features].iloc[:5])[:, 1], atol=1e-6
    )


def test_inexact_tree_shap_falls_back_to_kernel_shap_that_adds_up() -> None:
    """The demo's boosted pipeline: interventional TreeSHAP in probability space does not add
    up to ``predict_proba`` (off by ~1e-3), so the rows are explained with Kernel SHAP, whose
    attributions plus the base value reproduce the model's probability, and the stored
    method says why."""
    import pandas as pd

    from jobs.demo_data import FEATURES, applicants, labels_for, train_model

    rng = np.random.default_rng(0)
    x = applicants(1500, rng)
    model = train_model(x, labels_for(x, rng), 0)
    frame = x.assign(has_guarantor=x["has_guarantor"].astype(int), label=labels_for(x, rng))
    train, test = frame.iloc[:1000].reset_index(drop=True), frame.iloc[1000:].reset_index(drop=True)
    categorical = [c for c, kind in FEATURES.items() if kind != "numeric"]
    inputs = _inputs(model, train, test, categorical_features=categorical, treatment_features=["debt_ratio"],
                     counterfactual={"rows": [0], "total_cfs": 1}, explanation={"permutation_repeats": 2, "local_rows": 8, "background_rows": 10, "max_evals": 60})  # fmt: skip
    result = run_explanation(inputs)
    info = result.summary["shap"]
    assert "TreeExplainer's attributions did not add up" in info["method"]
    assert info["method"].startswith("shap.KernelExplainer")
    local = result.tables["local_attributions"]
    per_row = local.groupby("row")["shap_value"].sum().to_numpy() + info["base_values"][0]
    rows = pd.DataFrame(test.drop(columns="label").iloc[:8])
    np.testing.assert_allclose(per_row, model.predict_proba(rows[list(FEATURES)])[:, 1], atol=1e-6)

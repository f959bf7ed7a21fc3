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

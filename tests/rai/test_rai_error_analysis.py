"""Error cohorts match a direct recount on the data through their filters."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import base_config, forest_pipeline, known_regression
from sklearn.feature_selection import mutual_info_regression

from rai.components.error_analysis import run_error_analysis
from rai.config import RaiConfig
from rai.validate import validate_inputs


@pytest.fixture(scope="module")
def binary_result(binary_data):
    train, test, _model = binary_data
    # a deliberately weak model so there are errors to find: drop the strongest feature
    weak = forest_pipeline(train.assign(x_strong=0.0))
    inputs = validate_inputs(weak, train, test, RaiConfig.from_dict(base_config()))
    return test, weak, run_error_analysis(inputs)


def test_cohorts_match_recount_via_filter(binary_result) -> None:
    test, model, result = binary_result
    cohorts = result.tables["cohorts"]
    errors = model.predict(test.drop(columns="label")) != test["label"].to_numpy()
    frame = test.assign(_error=errors)
    assert len(cohorts) >= 3
    for cohort in cohorts.to_dict("records"):
        members = frame.query(cohort["filter"])
        assert len(members) == cohort["size"]
        assert members["_error"].mean() == pytest.approx(cohort["error_rate"])
        assert members["_error"].sum() / errors.sum() == pytest.approx(cohort["error_coverage"])
    assert cohorts["size"].sum() == len(test)
    assert cohorts["error_coverage"].sum() == pytest.approx(1.0)
    assert list(cohorts["error_rate"]) == sorted(cohorts["error_rate"], reverse=True)


def test_categorical_filters_are_readable(binary_result) -> None:
    _, _, result = binary_result
    filters = " ".join(result.tables["cohorts"]["filter"])
    assert "x_strong" in filters or "colour in [" in filters
    assert "np.str_" not in filters


def test_heatmap_and_mutual_information(binary_result) -> None:
    test, _model, result = binary_result
    heatmap = result.tables["heatmap"]
    assert heatmap["count"].sum() == len(test)
    assert heatmap["error_coverage"].sum() == pytest.approx(1.0)
    assert result.summary["surrogate"]["fidelity"] > 0.5
    assert len(result.summary["heatmap_features"]) == 2


def test_regression_uses_absolute_residual() -> None:
    frame = known_regression(500)
    train, test = frame.iloc[:400].reset_index(drop=True), frame.iloc[400:].reset_index(drop=True)
    model = forest_pipeline(train, regression=True)
    config = base_config(task="regression", gates=[], counterfactual={"desired_range": [0, 1]})
    result = run_error_analysis(validate_inputs(model, train, test, RaiConfig.from_dict(config)))
    residual = np.abs(test["label"] - model.predict(test.drop(columns="label")))
    assert result.summary["overall_error_rate"] == pytest.approx(residual.mean())
    for cohort in result.tables["cohorts"].to_dict("records"):
        members = test.assign(_r=residual).query(cohort["filter"])
        assert members["_r"].mean() == pytest.approx(cohort["error_rate"])
    x = test.drop(columns="label")[["x_strong"]]
    direct = mutual_info_regression(x, residual, random_state=0)
    assert result.summary["mutual_information"]["x_strong"] == pytest.approx(direct[0])

"""Bad input is refused before any work starts, naming the column or field and the fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, known_classification

from rai.config import RaiConfig
from rai.errors import RaiConfigError, RaiDataError, RaiModelError
from rai.pipeline import build_from_frames
from rai.validate import validate_inputs


def _validate(train: pd.DataFrame, test: pd.DataFrame, model: object, **overrides: object) -> None:
    validate_inputs(model, train, test, RaiConfig.from_dict(base_config(**overrides)))


def test_missing_target_names_column_and_available(binary_data) -> None:
    train, test, model = binary_data
    with pytest.raises(
        RaiDataError, match=r"Target column 'label' is missing from test data.*x_strong"
    ):
        _validate(train, test.drop(columns="label"), model)


def test_missing_sensitive_column_lists_features(binary_data) -> None:
    train, test, model = binary_data
    with pytest.raises(RaiConfigError, match=r"'sensitive_features' names column\(s\) \['race'\]"):
        _validate(train, test, model, sensitive_features=["race"])


def test_single_class_target(binary_data) -> None:
    train, test, model = binary_data
    with pytest.raises(RaiDataError, match="single class 1 in train data"):
        _validate(train.assign(label=1), test, model)


def test_nan_in_features_names_columns_and_counts(binary_data) -> None:
    train, test, model = binary_data
    broken = test.copy()
    broken.loc[[3, 7], "noise_b"] = np.nan
    with pytest.raises(RaiDataError, match=r"test data: \{'noise_b': 2\}. Set 'missing: drop'"):
        _validate(train, broken, model)


def test_model_whose_predict_raises(binary_data) -> None:
    train, test, _ = binary_data

    class Broken:
        classes_ = np.array([0, 1])

        def predict(self, x: pd.DataFrame) -> np.ndarray:
            raise KeyError("column 'income' not found")

        def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
            raise KeyError("column 'income' not found")

    with pytest.raises(RaiModelError, match="predict/predict_proba raised KeyError"):
        _validate(train, test, Broken())


def test_constant_treatment(binary_data) -> None:
    train, test, model = binary_data
    with pytest.raises(RaiDataError, match=r"Treatment feature 'noise_a' is constant"):
        _validate(train.assign(noise_a=1.0), test.assign(noise_a=1.0), model)


def test_categorical_with_thousands_of_levels(binary_data) -> None:
    train, test, model = binary_data
    ids = [f"id{i}" for i in range(len(train))]
    frame = train.assign(customer=ids)
    with pytest.raises(RaiDataError, match=r"'customer' has 600 levels \(limit 200\)"):
        _validate(frame, test.assign(customer="id0"), model)


def test_binary_task_with_three_classes(binary_data) -> None:
    _train, _test, model = binary_data
    frame = known_classification(300, n_classes=3)
    with pytest.raises(RaiDataError, match="has 3 classes but task is 'binary'"):
        _validate(frame, frame, model)


def test_counterfactual_rows_out_of_range(binary_data) -> None:
    train, test, model = binary_data
    with pytest.raises(RaiConfigError, match=r"'counterfactual.rows' has \[999\]"):
        _validate(train, test, model, counterfactual={"rows": [0, 999]})


def test_regression_counterfactual_needs_desired_range(binary_data) -> None:
    train, test, model = binary_data
    with pytest.raises(RaiConfigError, match="desired_range' is required for regression"):
        _validate(train.assign(label=train["x_strong"]), test, model, task="regression", gates=[])


def test_validation_happens_before_any_component(binary_data, tmp_path) -> None:
    train, test, model = binary_data
    with pytest.raises(RaiDataError):
        build_from_frames(
            model, train.drop(columns="label"), test, config=base_config(), out_dir=tmp_path / "b"
        )
    assert not (tmp_path / "b").exists()


def test_errors_are_value_errors() -> None:
    assert issubclass(RaiConfigError, ValueError)
    assert issubclass(RaiDataError, ValueError)
    assert issubclass(RaiModelError, ValueError)


def test_multiclass_needs_a_desired_class_label() -> None:
    frame = known_classification(300, n_classes=3)
    from conftest import forest_pipeline

    model = forest_pipeline(frame)
    with pytest.raises(RaiConfigError, match=r"desired_class' is 'opposite'.*\['a', 'b', 'c'\]"):
        _validate(frame, frame, model, task="multiclass", gates=[])


def test_missing_policy_drop_and_impute(binary_data) -> None:
    train, test, model = binary_data
    broken = test.copy()
    broken.loc[[3, 7], "noise_b"] = np.nan
    broken.loc[[5], "colour"] = None
    config = RaiConfig.from_dict(base_config(missing="drop"))
    dropped = validate_inputs(model, train, broken, config)
    assert len(dropped.x_test) == len(test) - 3
    assert dropped.missing_report["test_rows_dropped"] == 3
    config = RaiConfig.from_dict(base_config(missing="impute"))
    imputed = validate_inputs(model, train, broken, config)
    assert len(imputed.x_test) == len(test)
    assert imputed.x_test.loc[3, "noise_b"] == pytest.approx(train["noise_b"].median())
    assert imputed.x_test.loc[5, "colour"] == train["colour"].mode().sort_values().iloc[0]
    assert imputed.missing_report["test_values_imputed"] == {"noise_b": 2, "colour": 1}
    with pytest.raises(
        RaiConfigError, match=r"'missing' must be one of \['refuse', 'drop', 'impute'\]"
    ):
        RaiConfig.from_dict(base_config(missing="guess"))

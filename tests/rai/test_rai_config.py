"""Config parsing: field names, values and gates are checked with clear messages."""

from __future__ import annotations

import pytest
from conftest import base_config

from rai.config import ALL_COMPONENTS, RaiConfig, load_yaml
from rai.errors import RaiConfigError
from rai.gates import GateSpec


def test_round_trip_through_plain_dict() -> None:
    config = RaiConfig.from_dict(
        base_config(counterfactual={"permitted_range": {"noise_a": [0, 1]}})
    )
    again = RaiConfig.from_dict(config.to_dict())
    assert again == config
    assert again.counterfactual.permitted_range == {"noise_a": (0, 1)}
    assert config.components == ALL_COMPONENTS


def test_unknown_field_lists_valid_ones() -> None:
    with pytest.raises(
        RaiConfigError, match=r"Unknown field\(s\) \['depth'\] in 'error_analysis'.*max_depth"
    ):
        RaiConfig.from_dict(base_config(error_analysis={"depth": 3}))


def test_bad_task_lists_options() -> None:
    with pytest.raises(
        RaiConfigError, match=r"'task' must be one of \['binary', 'multiclass', 'regression'\]"
    ):
        RaiConfig.from_dict(base_config(task="ranking"))


def test_missing_target() -> None:
    data = base_config()
    del data["target"]
    with pytest.raises(RaiConfigError, match=r"Missing required field\(s\) \['target'\]"):
        RaiConfig.from_dict(data)


def test_gate_with_unknown_metric_lists_valid_metrics() -> None:
    with pytest.raises(RaiConfigError, match=r"Gate metric 'auc' is not available.*roc_auc"):
        RaiConfig.from_dict(base_config(gates=[{"metric": "auc", "min": 0.7}]))


def test_gate_needs_a_bound() -> None:
    with pytest.raises(RaiConfigError, match=r"gates\[0\] \(accuracy\) needs 'min' or 'max'"):
        RaiConfig.from_dict(base_config(gates=[{"metric": "accuracy"}]))


def test_gate_sensitive_feature_must_be_declared() -> None:
    gate = {"metric": "demographic_parity_difference", "sensitive_feature": "age", "max": 0.1}
    with pytest.raises(RaiConfigError, match=r"sensitive_feature 'age'.*not in sensitive_features"):
        RaiConfig.from_dict(base_config(gates=[gate]))


def test_regression_gates_differ_from_classification() -> None:
    with pytest.raises(RaiConfigError, match="not available for task 'regression'"):
        RaiConfig.from_dict(
            base_config(task="regression", gates=[{"metric": "accuracy", "min": 0.5}])
        )
    config = RaiConfig.from_dict(
        base_config(task="regression", gates=[{"metric": "rmse", "max": 1}])
    )
    assert config.gates == (GateSpec("rmse", max=1.0),)


def test_reversed_permitted_range() -> None:
    with pytest.raises(RaiConfigError, match=r"permitted_range.noise_a' has min 2 > max 1"):
        RaiConfig.from_dict(base_config(counterfactual={"permitted_range": {"noise_a": [2, 1]}}))


def test_yaml_file_errors(tmp_path) -> None:
    with pytest.raises(RaiConfigError, match="does not exist"):
        load_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("target: [unclosed\n")
    with pytest.raises(RaiConfigError, match="is not valid YAML"):
        load_yaml(bad)


def test_counterfactual_rows_as_a_count() -> None:
    config = RaiConfig.from_dict(base_config(counterfactual={"rows": 4}))
    assert config.counterfactual.rows == (0, 1, 2, 3)

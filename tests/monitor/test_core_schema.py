"""Model-version declarations: valid YAML and Python, and every invalid case's message.

Each invalid declaration must raise :class:`SchemaError` whose message names the
field, the bad value (where there is one) and how to fix it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import SchemaError
from monitor.spec.model_version import (
    FeatureSpec,
    ModelVersion,
    load_model_version,
    parse_model_version,
)

VALID: dict[str, Any] = {
    "name": "credit",
    "version": "1",
    "task": "binary",
    "features": {"age": "numeric", "purpose": "categorical", "sex": "categorical", "note": "text"},
    "prediction": "prediction",
    "scores": ["score"],
    "target": "default",
    "sensitive_features": ["sex"],
}

VALID_YAML = """\
name: credit
version: 1
task: binary
features:
  age: numeric
  purpose: categorical
  sex: categorical
  note: text
prediction: prediction
scores: score
target: default
sensitive_features: sex
"""


def write(tmp_path: Path, text: str, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def with_(**changes: Any) -> dict[str, Any]:
    return {**VALID, **changes}


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in VALID.items() if k != key}


# --- valid declarations ------------------------------------------------------------------


def test_python_declaration_is_parsed_with_derived_views() -> None:
    mv = parse_model_version(VALID)
    assert mv.key == ("credit", "1")
    assert [(f.name, f.type) for f in mv.features] == [
        ("age", "numeric"), ("purpose", "categorical"), ("sex", "categorical"), ("note", "text"),
    ]  # fmt: skip
    # text columns are logged but never monitored
    assert [f.name for f in mv.monitored_features] == ["age", "purpose", "sex"]
    assert [(c.name, c.type) for c in mv.output_columns()] == [
        ("prediction", "categorical"),
        ("score", "numeric"),
    ]
    assert [c.name for c in mv.profiled_columns()] == [
        "age",
        "purpose",
        "sex",
        "prediction",
        "score",
    ]
    assert mv.id_column == "request_id" and mv.timestamp_column == "timestamp"


def test_yaml_declaration_equals_python_declaration(tmp_path: Path) -> None:
    # YAML shorthands: an int version, one score and one sensitive feature as plain strings.
    from_yaml = load_model_version(write(tmp_path, VALID_YAML))
    assert from_yaml == parse_model_version(VALID)
    assert from_yaml.version == "1"
    assert from_yaml.scores == ("score",)
    assert from_yaml.sensitive_features == ("sex",)


def test_to_yaml_round_trips(tmp_path: Path) -> None:
    mv = parse_model_version(with_(task="multiclass", scores=["p_a", "p_b"], classes=["a", "b"]))
    assert load_model_version(write(tmp_path, mv.to_yaml())) == mv


def test_features_as_list_of_mappings() -> None:
    mv = parse_model_version(
        with_(
            features=[{"name": "age"}, {"name": "when", "type": "datetime", "description": "d"}],
            sensitive_features=[],
        )
    )
    assert mv.features == (
        FeatureSpec(name="age", type="numeric"),
        FeatureSpec(name="when", type="datetime", description="d"),
    )


def test_regression_prediction_is_profiled_as_numeric() -> None:
    mv = parse_model_version(with_(task="regression", scores=[]))
    assert [(c.name, c.type) for c in mv.output_columns()] == [("prediction", "numeric")]


def test_feature_lookup_error_lists_known_features() -> None:
    mv = parse_model_version(VALID)
    assert mv.feature("age").type == "numeric"
    with pytest.raises(
        SchemaError, match=r"no feature 'income'; known features: \['age', 'purpose'"
    ):
        mv.feature("income")


# --- invalid declarations: the message names the field, the value and the fix ---------------

INVALID = [
    pytest.param(
        with_(task="classification"),
        [r"task: got 'classification'", r"use one of 'binary', 'multiclass' or 'regression'"],
        id="invalid-task",
    ),
    pytest.param(
        with_(features={"age": "float"}, sensitive_features=[]),
        [r"features\.0\.type: got 'float'", r"use one of 'numeric', 'categorical', 'boolean'"],
        id="invalid-feature-type",
    ),
    pytest.param(
        without("task"), [r"  - task: required field is missing; add it"], id="missing-field"
    ),
    pytest.param(
        with_(colour="red"),
        [r"colour: unknown field; remove it \(check its spelling\)"],
        id="extra-field",
    ),
    pytest.param(
        with_(
            features=[{"name": "age"}, {"name": "age", "type": "categorical"}],
            sensitive_features=[],
        ),
        [r"features: duplicated feature names \['age'\]; each column once"],
        id="duplicate-feature",
    ),
    pytest.param(
        with_(sensitive_features=["race"]),
        [
            r"sensitive_features: 'race' is not a declared feature",
            r"declare it under features",
            r"known: \['age', 'purpose', 'sex', 'note'\]",
        ],
        id="sensitive-not-declared",
    ),
    pytest.param(
        with_(scores=["p0", "p1"]),
        [r"scores: a binary model has one score column", r"got \['p0', 'p1'\]"],
        id="binary-two-scores",
    ),
    pytest.param(
        with_(task="regression"),
        [r"scores: a regression model has no score columns; remove 'scores'"],
        id="regression-with-scores",
    ),
    pytest.param(
        with_(task="multiclass", classes=["a", "b", "c"], scores=["p_a", "p_b"]),
        [r"classes: 3 classes but 2 score columns; give one score column per class"],
        id="multiclass-classes-vs-scores",
    ),
    pytest.param(
        with_(prediction="age"),
        [r"prediction: column 'age' is also declared as a feature"],
        id="output-is-a-feature",
    ),
    pytest.param(
        with_(features={}, sensitive_features=[]),
        [r"features: at least one feature is required"],
        id="no-features",
    ),
    pytest.param(
        with_(name="credit model!"),
        [r"name: got 'credit model!'; must be 1-128 characters of letters, digits"],
        id="bad-name",
    ),
    pytest.param(
        with_(id_column="_raiwatch_id"),
        [r"id_column: column names starting with '_raiwatch' are reserved"],
        id="reserved-column",
    ),
]


@pytest.mark.parametrize(("data", "patterns"), INVALID)
def test_invalid_python_declaration(data: dict[str, Any], patterns: list[str]) -> None:
    with pytest.raises(SchemaError, match=r"^invalid model version in <python>:") as info:
        parse_model_version(data)
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), (pattern, str(info.value))


@pytest.mark.parametrize(("data", "patterns"), INVALID)
def test_invalid_yaml_declaration_names_the_file(
    tmp_path: Path, data: dict[str, Any], patterns: list[str]
) -> None:
    import yaml

    path = write(tmp_path, yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(
        SchemaError, match=rf"^invalid model version in {re.escape(str(path))}:"
    ) as info:
        load_model_version(path)
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), (pattern, str(info.value))


def test_every_error_is_listed_once(tmp_path: Path) -> None:
    bad = {**without("task"), "colour": "red", "features": {"age": "float"}}
    with pytest.raises(SchemaError) as info:
        parse_model_version(bad)
    lines = str(info.value).splitlines()[1:]
    assert sorted(line.split(":")[0].strip(" -") for line in lines) == [
        "colour", "features.0.type", "task",
    ]  # fmt: skip


def test_duplicate_feature_key_in_yaml_mapping_is_rejected(tmp_path: Path) -> None:
    # PyYAML alone keeps the last of two equal keys, silently declaring one feature.
    text = "name: m\nversion: '1'\ntask: binary\nfeatures:\n  age: numeric\n  age: categorical\n"
    with pytest.raises(
        SchemaError, match=r"not valid YAML: duplicated key 'age'; give each key once"
    ):
        load_model_version(write(tmp_path, text))


def test_yaml_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(
        SchemaError, match=r"expected a mapping with name, version, task and features, got list"
    ):
        load_model_version(write(tmp_path, "- a\n- b\n"))


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name: [unclosed\n")
    with pytest.raises(
        SchemaError, match=rf"model version file '{re.escape(str(path))}' is not valid YAML"
    ):
        load_model_version(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        SchemaError, match=r"model version file '.*nope\.yaml' does not exist; check the path"
    ):
        load_model_version(tmp_path / "nope.yaml")


def test_schema_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="task"):
        parse_model_version(with_(task="x"))


def test_model_version_is_frozen() -> None:
    mv = parse_model_version(VALID)
    with pytest.raises(Exception, match="frozen"):
        mv.task = "regression"  # type: ignore[misc]
    assert isinstance(mv, ModelVersion)

"""Model-version declarations: what a model reads, predicts and logs.

A model version is declared in YAML or Python and validated at the boundary::

    >>> mv = ModelVersion.model_validate({
    ...     "name": "credit", "version": "1", "task": "binary",
    ...     "features": {"age": "numeric", "purpose": "categorical"},
    ...     "prediction": "prediction", "scores": ["score"], "target": "default",
    ... })
    >>> [f.name for f in mv.features]
    ['age', 'purpose']

Invalid declarations raise :class:`~monitor.errors.SchemaError` naming the
field, the bad value and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.errors import SchemaError, format_validation_error

Task = Literal["binary", "multiclass", "regression"]
FeatureType = Literal["numeric", "categorical", "boolean", "datetime", "text"]
FEATURE_TYPES: tuple[str, ...] = ("numeric", "categorical", "boolean", "datetime", "text")
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


#: Longest column name a model version may declare (results store column names in
#: a 256-character column on every store; signals may add a short suffix).
MAX_COLUMN_NAME_CHARS = 200


class FeatureSpec(BaseModel):
    """One input column of the model.

    ``text`` columns are logged but ignored by every signal.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    type: FeatureType = "numeric"
    description: str | None = None


class ModelVersion(BaseModel):
    """A deployed model version and the columns of its inference logs."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    name: str
    version: str
    task: Task
    features: tuple[FeatureSpec, ...]
    target: str | None = None
    prediction: str | None = "prediction"  # None: data logged without predictions (drift and quality only)
    scores: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    id_column: str = "request_id"
    timestamp_column: str = "timestamp"
    sensitive_features: tuple[str, ...] = ()
    model_uri: str | None = None
    description: str | None = None

    @field_validator("name", "version", mode="before")
    @classmethod
    def _check_name(cls, value: Any) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not _NAME_RE.match(value):
            raise ValueError(
                "must be 1-128 characters of letters, digits, '_', '-' or '.', "
                "starting with a letter or digit"
            )
        return value

    @field_validator("classes", mode="before")
    @classmethod
    def _classes_as_str(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(str(v) for v in value)
        return value

    @field_validator("features", mode="before")
    @classmethod
    def _expand_features(cls, value: Any) -> Any:
        # Shorthand: {"age": "numeric", "purpose": "categorical"}
        if isinstance(value, dict):
            return [{"name": k, "type": v} for k, v in value.items()]
        return value

    @field_validator("scores", "sensitive_features", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            return (value,)
        return value

    @model_validator(mode="after")
    def _check_columns(self) -> ModelVersion:
        if not self.features:
            raise ValueError("features: at least one feature is required")
        names = [f.name for f in self.features]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"features: duplicated feature names {dupes}; each column once")
        columns = [c for c in (*names, self.id_column, self.timestamp_column, self.prediction, self.target, *self.scores)
                   if c is not None]  # fmt: skip
        long_names = [c for c in columns if len(c) > MAX_COLUMN_NAME_CHARS]
        if long_names:
            shown = ", ".join(f"{c[:40]!r}... ({len(c)} characters)" for c in long_names[:5])
            raise ValueError(
                f"column names are limited to {MAX_COLUMN_NAME_CHARS} characters (the store keeps "
                f"results per column); too long: {shown}; rename these columns"
            )
        reserved = {
            "id_column": self.id_column,
            "timestamp_column": self.timestamp_column,
            "prediction": self.prediction,
            "target": self.target,
            **{f"scores[{i}]": s for i, s in enumerate(self.scores)},
        }
        for field, col in reserved.items():
            if col is not None and col in names:
                raise ValueError(
                    f"{field}: column {col!r} is also declared as a feature; "
                    "a column is either a feature or a model output"
                )
            if col is not None and col.startswith("_raiwatch"):
                raise ValueError(f"{field}: column names starting with '_raiwatch' are reserved")
        for s in self.sensitive_features:
            if s not in names:
                raise ValueError(
                    f"sensitive_features: {s!r} is not a declared feature; "
                    f"declare it under features (known: {names})"
                )
        if self.task == "binary" and len(self.scores) > 1:
            raise ValueError(
                f"scores: a binary model has one score column (probability of the positive "
                f"class), got {list(self.scores)}"
            )
        if self.task == "regression" and self.scores:
            raise ValueError("scores: a regression model has no score columns; remove 'scores'")
        if (
            self.task == "multiclass"
            and self.scores
            and self.classes
            and len(self.classes) != len(self.scores)
        ):
            raise ValueError(
                f"classes: {len(self.classes)} classes but {len(self.scores)} score columns; "
                "give one score column per class, in the same order"
            )
        return self

    # --- derived views -----------------------------------------------------------------
    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.version)

    @property
    def monitored_features(self) -> tuple[FeatureSpec, ...]:
        """Features that signals look at (text columns are ignored)."""
        return tuple(f for f in self.features if f.type != "text")

    def feature(self, name: str) -> FeatureSpec:
        for f in self.features:
            if f.name == name:
                return f
        raise SchemaError(
            f"model version {self.name}:{self.version} has no feature {name!r}; "
            f"known features: {[f.name for f in self.features]}"
        )

    def output_columns(self) -> list[FeatureSpec]:
        """Prediction and score columns, typed for profiling."""
        pred_type: FeatureType = "numeric" if self.task == "regression" else "categorical"
        cols = [] if self.prediction is None else [FeatureSpec(name=self.prediction, type=pred_type)]
        cols += [FeatureSpec(name=s, type="numeric") for s in self.scores]
        return cols

    def profiled_columns(self) -> list[FeatureSpec]:
        """Every column a profile covers: monitored features, prediction and scores."""
        return list(self.monitored_features) + self.output_columns()

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), sort_keys=False)


def parse_model_version(data: Any, *, source: str = "<python>") -> ModelVersion:
    """Validate a mapping as a :class:`ModelVersion`, raising :class:`SchemaError`."""
    if not isinstance(data, dict):
        raise SchemaError(
            f"invalid model version in {source}: expected a mapping with name, version, task "
            f"and features, got {type(data).__name__}"
        )
    try:
        return ModelVersion.model_validate(data)
    except ValidationError as err:
        raise SchemaError(format_validation_error("model version", source, err)) from None


#: Keys whose scalar values are identifiers: kept exactly as written (``version: 1.10``
#: stays ``"1.10"``, not the float 1.1).
VERBATIM_KEYS = frozenset({"name", "version", "model"})


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that rejects a key repeated in one mapping.

    PyYAML keeps the last of two equal keys, so ``features: {age: numeric, age: categorical}``
    would silently declare one feature. Scalars under :data:`VERBATIM_KEYS` are
    read as the text written, so ``version: 1.10`` is ``"1.10"``.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value in VERBATIM_KEYS
                and isinstance(value_node, yaml.ScalarNode)
                and value_node.tag in ("tag:yaml.org,2002:float", "tag:yaml.org,2002:int")
            ):
                value_node.tag = "tag:yaml.org,2002:str"
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if not isinstance(key, Hashable):
                continue  # SafeLoader reports unhashable keys itself
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicated key {key!r}; give each key once", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse raiwatch YAML: duplicated keys rejected, identifiers kept verbatim."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass


def load_model_version(path: str | Path) -> ModelVersion:
    """Read a model-version YAML file."""
    p = Path(path)
    if not p.is_file():
        raise SchemaError(f"model version file {str(p)!r} does not exist; check the path")
    try:
        data = load_yaml(p.read_text())
    except yaml.YAMLError as err:
        raise SchemaError(f"model version file {str(p)!r} is not valid YAML: {err}") from err
    return parse_model_version(data, source=str(p))

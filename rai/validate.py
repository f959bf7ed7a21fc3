"""Check model, data and config together before any component starts.

Every failure names the column or field, the problem and the fix, and is raised
as :class:`~rai.errors.RaiDataError`, :class:`~rai.errors.RaiConfigError` or
:class:`~rai.errors.RaiModelError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rai.config import RaiConfig
from rai.errors import RaiConfigError, RaiDataError, RaiModelError
from rai.model import ModelAdapter


@dataclass(frozen=True)
class RaiInputs:
    """Validated inputs shared by every component."""

    config: RaiConfig
    model: ModelAdapter
    x_train: pd.DataFrame
    y_train: pd.Series
    x_test: pd.DataFrame
    y_test: pd.Series
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    missing_report: dict[str, Any] | None = None

    @property
    def numeric(self) -> tuple[str, ...]:
        """Features that are not categorical."""
        return tuple(f for f in self.features if f not in self.categorical)


def validate_inputs(
    model: Any, train: pd.DataFrame, test: pd.DataFrame, config: RaiConfig
) -> RaiInputs:
    """Validate everything and return the inputs split into features and target.

    Raises
    ------
    RaiDataError, RaiConfigError, RaiModelError
        On the first problem found, with the column or field and the fix.
    """
    target = config.target
    for name, frame in (("train", train), ("test", test)):
        if target not in frame.columns:
            raise RaiDataError(
                f"Target column {target!r} is missing from {name} data; available columns: "
                f"{list(map(str, frame.columns))}. Set 'target' to one of them."
            )
    features = tuple(str(c) for c in train.columns if c != target)
    missing = [f for f in features if f not in test.columns]
    if missing:
        raise RaiDataError(f"Test data lacks feature column(s) {missing} present in train data.")
    _check_roles(config, features)
    train, test, report = handle_missing(train, test, config, list(features))
    x_train, x_test = train[list(features)], test[list(features)]
    _check_missing_values(x_train, "train")
    _check_missing_values(x_test, "test")
    y_train, y_test = train[target], test[target]
    for name, y in (("train", y_train), ("test", y_test)):
        if y.isna().any():
            raise RaiDataError(
                f"Target column {target!r} has {int(y.isna().sum())} missing value(s) in {name} "
                "data; drop those rows or set 'missing: drop'."
            )
    _check_target(config, y_train)
    categorical = tuple(
        f
        for f in features
        if f in config.categorical_features or not pd.api.types.is_numeric_dtype(x_train[f])
    )
    _check_categorical_levels(x_train, categorical, config.max_categorical_levels)
    _check_treatments(x_train, config, categorical)
    _check_counterfactual(config, x_test, categorical, y_train)
    classes = np.unique(y_train) if config.task != "regression" else None
    adapter = ModelAdapter(
        model, config.task, classes=classes, positive_label=config.positive_label
    )
    _check_model(adapter, x_test, y_train)
    return RaiInputs(
        config, adapter, x_train, y_train, x_test, y_test, features, categorical, report
    )


def handle_missing(
    train: pd.DataFrame, test: pd.DataFrame, config: RaiConfig, features: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Apply ``config.missing`` to rows with missing values.

    ``refuse`` changes nothing (validation then names the columns); ``drop`` removes
    rows with a missing feature or target from train and test; ``impute`` fills
    numeric features with the train median and other features with the train mode
    (rows with a missing target are dropped: labels are never imputed). Returns the
    frames and what was done, stored in the manifest.
    """
    report: dict[str, Any] = {"policy": config.missing}
    if config.missing == "refuse":
        return train, test, report
    columns = [*features, config.target]
    if config.missing == "drop":
        kept = []
        for name, frame in (("train", train), ("test", test)):
            complete = frame.dropna(subset=columns).reset_index(drop=True)
            report[f"{name}_rows_dropped"] = len(frame) - len(complete)
            kept.append(complete)
        return kept[0], kept[1], report
    fills: dict[str, Any] = {}
    for column in features:
        values = train[column].dropna()
        if values.empty:
            raise RaiDataError(
                f"Feature column {column!r} has no values in train data, so 'missing: impute' "
                "cannot fill it; drop the column."
            )
        if pd.api.types.is_numeric_dtype(train[column]) and not pd.api.types.is_bool_dtype(
            train[column]
        ):
            fills[column] = _plain(values.median())
        else:
            fills[column] = _plain(values.mode().sort_values().iloc[0])
    out = []
    for name, frame in (("train", train), ("test", test)):
        counts = {c: int(n) for c, n in frame[features].isna().sum().items() if n}
        report[f"{name}_values_imputed"] = counts
        filled = frame.fillna({c: fills[c] for c in counts})
        labelled = filled.dropna(subset=[config.target]).reset_index(drop=True)
        report[f"{name}_rows_dropped"] = len(filled) - len(labelled)
        out.append(labelled)
    report["fill_values"] = {c: fills[c] for c in sorted(fills)}
    return out[0], out[1], report


def _check_roles(config: RaiConfig, features: tuple[str, ...]) -> None:
    roles = {
        "categorical_features": config.categorical_features,
        "sensitive_features": config.sensitive_features,
        "treatment_features": config.treatment_features,
        "error_analysis.heatmap_features": config.error_analysis.heatmap_features,
        "counterfactual.features_to_vary": config.counterfactual.features_to_vary,
        "counterfactual.permitted_range": tuple(config.counterfactual.permitted_range),
    }
    for field_name, names in roles.items():
        unknown = [n for n in names if n not in features]
        if unknown:
            raise RaiConfigError(
                f"Field {field_name!r} names column(s) {unknown} that are not features; "
                f"features are {list(features)}."
            )
    if "fairness" in config.components and not config.sensitive_features:
        raise RaiConfigError(
            "Component 'fairness' needs 'sensitive_features'; list them or drop 'fairness' "
            "from 'components'."
        )
    if "causal" in config.components and not config.treatment_features:
        raise RaiConfigError(
            "Component 'causal' needs 'treatment_features'; list them or drop 'causal' "
            "from 'components'."
        )


def _check_missing_values(frame: pd.DataFrame, name: str) -> None:
    counts = frame.isna().sum()
    bad = {str(c): int(n) for c, n in counts.items() if n > 0}
    if bad:
        raise RaiDataError(
            f"Feature column(s) with missing values in {name} data: {bad}. Set 'missing: drop' "
            "(drop those rows) or 'missing: impute' (train median / mode) in rai.yaml, or clean "
            "the data first (explainers, DiCE and DoWhy need complete rows)."
        )


def _check_target(config: RaiConfig, y: pd.Series) -> None:
    n_classes = y.nunique()
    if config.task == "regression":
        if not pd.api.types.is_numeric_dtype(y):
            raise RaiDataError(
                f"Target {config.target!r} is not numeric but task is 'regression'; "
                "use task 'binary' or 'multiclass'."
            )
        return
    if n_classes < 2:
        raise RaiDataError(
            f"Target {config.target!r} has a single class {_plain(y.iloc[0])!r} in train data; a "
            "classifier needs at least two classes. Check the data extract."
        )
    if config.task == "binary" and n_classes != 2:
        raise RaiDataError(
            f"Target {config.target!r} has {n_classes} classes but task is 'binary'; "
            "use task 'multiclass'."
        )
    if config.positive_label is not None and config.positive_label not in set(y.unique()):
        raise RaiConfigError(
            f"Field 'positive_label' is {config.positive_label!r}, not a class of "
            f"{config.target!r}: {sorted(map(str, y.unique()))}."
        )


def _check_categorical_levels(
    frame: pd.DataFrame, categorical: tuple[str, ...], limit: int
) -> None:
    for name in categorical:
        levels = frame[name].nunique()
        if levels > limit:
            raise RaiDataError(
                f"Categorical feature {name!r} has {levels} levels (limit {limit}): group rare "
                "levels into 'other', drop identifier-like columns, or raise "
                "'max_categorical_levels'."
            )


def _check_treatments(frame: pd.DataFrame, config: RaiConfig, categorical: tuple[str, ...]) -> None:
    if "causal" not in config.components:
        return
    for name in config.treatment_features:
        values = frame[name]
        if values.nunique() < 2:
            raise RaiDataError(
                f"Treatment feature {name!r} is constant ({_plain(values.iloc[0])!r}) in train data; its "
                "effect cannot be estimated. Remove it from 'treatment_features'."
            )
        if name in categorical and values.nunique() > 2:
            raise RaiDataError(
                f"Treatment feature {name!r} is categorical with {values.nunique()} levels; "
                "treatments must be numeric or binary. Encode one level against the rest."
            )
        two_valued = values.nunique() == 2 and (
            name in categorical or set(pd.unique(values.astype(float))) == {0.0, 1.0}
        )
        if config.causal.estimand != "ate" and not two_valued:
            raise RaiConfigError(
                f"Field 'causal.estimand' is {config.causal.estimand!r}, which needs a 0/1 "
                f"treatment, but treatment feature {name!r} has {values.nunique()} values. Use "
                "estimand 'ate' or encode the treatment as 0/1."
            )
    for name in config.causal.negative_control_outcomes:
        if name not in frame.columns:
            raise RaiConfigError(
                f"Field 'causal.negative_control_outcomes' names {name!r}, which is not a "
                f"feature; features are {list(frame.columns)}."
            )
        if name in config.treatment_features or not pd.api.types.is_numeric_dtype(frame[name]):
            raise RaiConfigError(
                f"Field 'causal.negative_control_outcomes' names {name!r}; a negative control "
                "must be a numeric feature that is not a treatment (e.g. an outcome measured "
                "before treatment)."
            )


def _check_counterfactual(
    config: RaiConfig, x_test: pd.DataFrame, categorical: tuple[str, ...], y_train: pd.Series
) -> None:
    if "counterfactual" not in config.components:
        return
    settings = config.counterfactual
    unsupported = {
        str(c): str(t)
        for c, t in x_test.dtypes.items()
        if pd.api.types.is_bool_dtype(t) or pd.api.types.is_datetime64_any_dtype(t)
    }
    if unsupported:
        raise RaiDataError(
            f"Feature column(s) {unsupported} have a type DiCE cannot search over "
            "(counterfactuals). Cast boolean columns to int (df[col] = df[col].astype(int)) "
            "and datetimes to numbers in train and test data (and train the model on that "
            "encoding), or drop 'counterfactual' from 'components'."
        )
    bad_rows = [r for r in settings.rows if not 0 <= r < len(x_test)]
    if bad_rows:
        raise RaiConfigError(
            f"Field 'counterfactual.rows' has {bad_rows} outside the test data (0..{len(x_test) - 1})."
        )
    ranged_categorical = [f for f in settings.permitted_range if f in categorical]
    if ranged_categorical:
        raise RaiConfigError(
            f"Field 'counterfactual.permitted_range' gives numeric ranges for categorical "
            f"feature(s) {ranged_categorical}; leave them out or use features_to_vary."
        )
    labels = sorted(map(str, y_train.unique()))
    if config.task == "multiclass" and str(settings.desired_class) not in labels:
        raise RaiConfigError(
            f"Field 'counterfactual.desired_class' is {settings.desired_class!r}; for multiclass "
            f"it must be one of the classes {labels}."
        )
    if config.task == "regression" and settings.desired_range is None:
        raise RaiConfigError(
            "Field 'counterfactual.desired_range' is required for regression: [low, high]."
        )


def _check_model(model: ModelAdapter, x_test: pd.DataFrame, y_train: pd.Series) -> None:
    sample = x_test.head(5)
    try:
        predicted = model.predict(sample)
        if model.is_classifier:
            proba = model.predict_proba(sample)
    except RaiModelError:
        raise
    except Exception as exc:
        raise RaiModelError(
            f"The model's predict/predict_proba raised {type(exc).__name__}: {exc} on the first "
            f"test rows (columns {list(x_test.columns)}). Check it accepts these columns."
        ) from exc
    if predicted.shape[0] != len(sample):
        raise RaiModelError(
            f"The model returned {predicted.shape[0]} predictions for {len(sample)} rows."
        )
    if model.is_classifier:
        expected = np.unique(y_train)
        if (
            proba.ndim != 2
            or proba.shape[1] != len(model.classes_)
            or len(expected) != len(model.classes_)
        ):
            raise RaiModelError(
                f"The model's classes {model.classes_.tolist()} do not match the target classes "
                f"{expected.tolist()} (predict_proba shape {proba.shape})."
            )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value

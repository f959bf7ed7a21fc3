"""Find the tree estimator inside a model and map its input columns to raw features.

A scikit-learn ``Pipeline(preprocess, tree_model)`` whose preprocessing is a
``ColumnTransformer`` (one-hot encoders, scalers, passthrough) is explained exactly
by SHAP's ``TreeExplainer`` on the final step; this module builds the matrix that
step sees and the map from its columns back to the raw features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

TREE_MODULES = ("sklearn.ensemble", "sklearn.tree", "xgboost", "lightgbm", "catboost")


@dataclass(frozen=True)
class TreeModelParts:
    """The preprocessing, the tree estimator and the column-to-feature map."""

    preprocess: Any
    estimator: Any
    column_feature: np.ndarray  # index of the raw feature behind each transformed column
    n_features: int

    def transform(self, rows: pd.DataFrame) -> np.ndarray:
        """Rows as the tree estimator sees them (dense)."""
        if self.preprocess is None:
            return rows.to_numpy(dtype=float)
        out = self.preprocess.transform(rows)
        return np.asarray(out.toarray() if hasattr(out, "toarray") else out, dtype=float)

    def sum_to_features(self, values: np.ndarray) -> np.ndarray:
        """Sum attributions (rows, columns, outputs) over the columns of each feature."""
        summed = np.zeros((values.shape[0], self.n_features, values.shape[2]))
        for column, feature in enumerate(self.column_feature):
            summed[:, feature, :] += values[:, column, :]
        return summed


def tree_model_parts(model: Any, features: list[str]) -> TreeModelParts | None:
    """Return the parts when ``model`` is a tree model or a pipeline ending in one."""
    if isinstance(model, Pipeline):
        estimator = model.steps[-1][1]
        preprocess = model[:-1] if len(model.steps) > 1 else None
    else:
        estimator, preprocess = model, None
    if not type(estimator).__module__.startswith(TREE_MODULES) or not hasattr(estimator, "predict"):
        return None
    if type(estimator).__name__.startswith(("Bagging", "Voting", "Stacking", "AdaBoost")):
        return None
    if preprocess is None:
        mapping = np.arange(len(features))
    else:
        column_map = _column_map(preprocess, features)
        if column_map is None:
            return None
        mapping = column_map
    return TreeModelParts(preprocess, estimator, mapping, len(features))


def _column_map(preprocess: Any, features: list[str]) -> np.ndarray | None:
    """Map output columns of a (pipeline of a) ColumnTransformer to feature indices."""
    steps = preprocess.steps if isinstance(preprocess, Pipeline) else [("only", preprocess)]
    if len(steps) != 1 or not isinstance(steps[0][1], ColumnTransformer):
        return None
    transformer: ColumnTransformer = steps[0][1]
    index = {name: i for i, name in enumerate(features)}
    mapping: list[int] = []
    for _, step, columns in transformer.transformers_:
        if step == "drop" or len(columns) == 0:
            continue
        names = [features[c] if isinstance(c, int | np.integer) else str(c) for c in columns]
        if step == "passthrough":
            mapping.extend(index[n] for n in names)
            continue
        try:
            outputs = [str(o) for o in step.get_feature_names_out(names)]
        except Exception:
            return None
        for output in outputs:
            source = [n for n in names if output == n or output.startswith(f"{n}_")]
            if not source:
                return None
            mapping.append(index[max(source, key=len)])
    return np.asarray(mapping, dtype=int)

"""Error analysis: where on the test data does the real model go wrong?

A shallow decision tree is fitted on the model's error indicator (classification) or
absolute residual (regression). Each leaf is a cohort with a readable filter that is
also a valid ``DataFrame.query`` expression, so anyone can recount it. A one- or
two-feature heatmap and feature–error mutual information complete the picture.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from rai.results import ComponentResult, to_jsonable
from rai.validate import RaiInputs


def model_errors(inputs: RaiInputs) -> np.ndarray:
    """1.0 where a classifier is wrong (else 0.0), or |residual| for regression."""
    predicted = inputs.model.predict(inputs.x_test)
    truth = inputs.y_test.to_numpy()
    if inputs.model.is_classifier:
        return (predicted != truth).astype(float)
    return np.abs(truth.astype(float) - predicted.astype(float))


def run_error_analysis(inputs: RaiInputs) -> ComponentResult:
    """Error cohorts, heatmap and mutual information for the real model on test data."""
    settings, seed = inputs.config.error_analysis, inputs.config.seed
    x, errors = inputs.x_test.reset_index(drop=True), model_errors(inputs)
    encoded, orders = _encode(x, inputs.categorical, errors)
    classify = inputs.model.is_classifier
    tree_cls = DecisionTreeClassifier if classify else DecisionTreeRegressor
    tree = tree_cls(
        max_depth=settings.max_depth, min_samples_leaf=settings.min_samples_leaf, random_state=seed
    )
    target = errors.astype(int) if classify else errors
    tree.fit(encoded, target)
    fidelity = (accuracy_score if classify else r2_score)(target, tree.predict(encoded))
    leaves = tree.apply(encoded)
    total_error = float(errors.sum())
    cohorts = []
    for leaf, conditions in _leaf_paths(tree, encoded, orders).items():
        mask = leaves == leaf
        cohort_error = float(errors[mask].sum())
        cohorts.append(
            {
                "leaf": int(leaf),
                "filter": " and ".join(c["text"] for c in conditions) or "all rows",
                "size": int(mask.sum()),
                "error_rate": float(errors[mask].mean()),
                "error_coverage": cohort_error / total_error if total_error > 0 else 0.0,
            }
        )
    cohort_table = pd.DataFrame(cohorts).sort_values(
        ["error_rate", "leaf"], ascending=[False, True]
    )
    discrete = np.array([c in inputs.categorical for c in x.columns])
    mi_func = mutual_info_classif if classify else mutual_info_regression
    mi = mi_func(encoded, target, discrete_features=discrete, random_state=seed)
    mi_table = pd.DataFrame({"feature": list(x.columns), "mutual_information": mi})
    mi_table = mi_table.sort_values(["mutual_information", "feature"], ascending=[False, True])
    heat_features = list(settings.heatmap_features) or list(mi_table["feature"].head(2))
    heatmap = _heatmap(x, errors, heat_features, inputs.categorical, settings.bins)
    summary = {
        "error_measure": "misclassification" if classify else "absolute residual",
        "overall_error_rate": float(errors.mean()),
        "total_error": total_error,
        "surrogate": {
            "kind": "decision tree on the error indicator"
            if classify
            else "regression tree on |residual|",
            "fidelity_metric": "accuracy" if classify else "r2",
            "fidelity": float(fidelity),
        },
        "heatmap_features": heat_features,
        "worst_cohorts": cohort_table.head(5).to_dict(orient="records"),
        "mutual_information": dict(
            zip(mi_table["feature"], mi_table["mutual_information"], strict=True)
        ),
    }
    tables = {
        "cohorts": cohort_table.reset_index(drop=True),
        "heatmap": heatmap,
        "mutual_information": mi_table.reset_index(drop=True),
    }
    return ComponentResult("error_analysis", summary=to_jsonable(summary), tables=tables)


def _encode(
    x: pd.DataFrame, categorical: tuple[str, ...], errors: np.ndarray
) -> tuple[pd.DataFrame, dict[str, list[Any]]]:
    """Numeric columns as is; categories coded 0..k-1 in order of their mean error."""
    encoded = pd.DataFrame(index=x.index)
    orders: dict[str, list[Any]] = {}
    for column in x.columns:
        if column in categorical:
            means = pd.Series(errors, index=x.index).groupby(x[column]).mean()
            order = sorted(means.index, key=lambda level: (means[level], str(level)))
            orders[column] = [v.item() if isinstance(v, np.generic) else v for v in order]
            encoded[column] = (
                x[column].map({level: i for i, level in enumerate(order)}).astype(float)
            )
        else:
            encoded[column] = x[column].astype(float)
    return encoded, orders


def readable_threshold(values: np.ndarray, threshold: float) -> float:
    """The shortest decimal that splits ``values`` exactly as ``threshold`` does.

    >>> readable_threshold(np.array([0.2652, 0.2653]), 0.26524999737739563)
    0.2652
    """
    below, above = values[values <= threshold], values[values > threshold]
    low = float(below.max()) if below.size else threshold
    high = float(above.min()) if above.size else np.inf
    for digits in range(13):
        candidate = round(threshold, digits)
        if low <= candidate < high:
            return candidate
    return threshold


def _leaf_paths(
    tree: Any, encoded: pd.DataFrame, orders: dict[str, list[Any]]
) -> dict[int, list[dict[str, Any]]]:
    structure, columns = tree.tree_, list(encoded.columns)
    paths: dict[int, list[dict[str, Any]]] = {}
    stack: list[tuple[int, list[dict[str, Any]]]] = [(0, [])]
    while stack:
        node, conditions = stack.pop()
        left, right = structure.children_left[node], structure.children_right[node]
        if left == right:
            paths[node] = conditions
            continue
        column = columns[structure.feature[node]]
        threshold = readable_threshold(encoded[column].to_numpy(), float(structure.threshold[node]))
        name = column if column.isidentifier() else f"`{column}`"
        if column in orders:
            low = [v for i, v in enumerate(orders[column]) if i <= threshold]
            high = [v for i, v in enumerate(orders[column]) if i > threshold]
            stack.append((right, [*conditions, {"text": f"{name} in {high!r}"}]))
            stack.append((left, [*conditions, {"text": f"{name} in {low!r}"}]))
        else:
            stack.append((right, [*conditions, {"text": f"{name} > {threshold!r}"}]))
            stack.append((left, [*conditions, {"text": f"{name} <= {threshold!r}"}]))
    return paths


def _heatmap(
    x: pd.DataFrame,
    errors: np.ndarray,
    features: list[str],
    categorical: tuple[str, ...],
    bins: int,
) -> pd.DataFrame:
    binned = pd.DataFrame({"error": errors}, index=x.index)
    for feature in features:
        if feature in categorical:
            top = x[feature].value_counts().index[: bins * 2]
            binned[feature] = x[feature].where(x[feature].isin(top), "other").astype(str)
        else:
            binned[feature] = pd.qcut(x[feature], q=bins, duplicates="drop").astype(str)
    total = float(errors.sum())
    grouped = binned.groupby(features, observed=True)["error"].agg(["size", "mean", "sum"])
    grouped = grouped.rename(columns={"size": "count", "mean": "error_rate", "sum": "error_sum"})
    grouped["error_coverage"] = grouped["error_sum"] / total if total > 0 else 0.0
    return grouped.reset_index().drop(columns="error_sum")

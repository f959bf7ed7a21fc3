"""Explanations of the real model (no surrogate).

Global: scikit-learn permutation importance on the test data with a t-interval over
repeats. Local: SHAP attributions for the first ``explanation.local_rows`` test rows,
exact ``TreeExplainer`` when the (final step of the) model is a tree ensemble, always
explaining the model's output space (``predict_proba`` for classifiers, ``predict`` for
regression). When the trees' raw output is that output (forests, regression trees) the
fast path-dependent TreeSHAP is exact; when it is log-odds (boosted classifiers) the
interventional ``TreeExplainer`` in probability space against a seeded background sample
of ``explanation.tree_background_rows`` training rows (``tree_perturbation:
interventional`` uses the background for every tree model). Additivity against
``predict_proba``/``predict`` is enforced (more than 1e-6 off fails the component), and
a feature the model never splits on gets exactly 0. For log-odds models shap rescales
exact log-odds values per background row into probability: additive, but not the exact
Shapley values of the probability game. Otherwise a seeded
``KernelExplainer`` on the model's own prediction function. Tree
attributions of one-hot columns are summed back to their source feature (SHAP values
are additive, so this stays exact). The additivity error against the real model's
output is reported.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shap
from scipy import stats
from sklearn.inspection import permutation_importance
from sklearn.metrics import log_loss, r2_score, roc_auc_score

from rai.components.feature_mapping import tree_model_parts
from rai.results import ComponentResult, to_jsonable
from rai.validate import RaiInputs


def run_explanation(inputs: RaiInputs) -> ComponentResult:
    """Permutation importance with intervals plus SHAP local attributions."""
    importance, scoring = _permutation(inputs)
    rows = inputs.x_test.iloc[: inputs.config.explanation.local_rows]
    tree = tree_model_parts(inputs.model.model, list(inputs.features))
    if tree is not None:
        values, base, output, method = _tree_shap(inputs, rows, tree)
    else:
        values, base, output, method = _agnostic_shap(inputs, rows)
    outputs = _output_names(inputs)
    additivity = float(np.max(np.abs(values.sum(axis=1) + base - output))) if len(rows) else 0.0
    row_ids, out_ids, feat_ids = np.meshgrid(
        np.arange(len(rows)),
        np.arange(len(outputs)),
        np.arange(len(inputs.features)),
        indexing="ij",
    )
    local = pd.DataFrame(
        {
            "row": row_ids.ravel(),
            "output": np.asarray(outputs, dtype=object)[out_ids.ravel()].astype(str),
            "feature": np.asarray(inputs.features, dtype=object)[feat_ids.ravel()].astype(str),
            "shap_value": values.transpose(0, 2, 1).ravel(),
        }
    )
    global_shap = pd.DataFrame(
        {
            "feature": list(inputs.features),
            "mean_abs_shap": np.abs(values).sum(axis=2).mean(axis=0) if len(rows) else 0.0,
        }
    ).sort_values(["mean_abs_shap", "feature"], ascending=[False, True])
    summary = {
        "permutation": {
            "scoring": scoring,
            "repeats": inputs.config.explanation.permutation_repeats,
            "interval": "95% t-interval of the mean over repeats",
        },
        "top_features": list(importance["feature"].head(10)),
        "shap": {
            "method": method,
            "rows": len(rows),
            "outputs": [str(o) for o in outputs],
            "output_space": "probability" if inputs.model.is_classifier else "prediction",
            "base_values": np.atleast_1d(base).mean(axis=0).tolist(),
            "additivity_max_error": additivity,
        },
        "top_features_shap": list(global_shap["feature"].head(10)),
        "surrogate": None,
        "explains": "the real model",
    }
    tables = {
        "permutation_importance": importance.reset_index(drop=True),
        "shap_global": global_shap.reset_index(drop=True),
        "local_attributions": local,
    }
    return ComponentResult("explanation", summary=to_jsonable(summary), tables=tables)


def _output_names(inputs: RaiInputs) -> list[Any]:
    if inputs.config.task == "binary":
        return [inputs.model.positive_label]
    if inputs.config.task == "multiclass":
        return list(inputs.model.classes_)
    return ["prediction"]


def _explained_output(inputs: RaiInputs, frame: pd.DataFrame) -> np.ndarray:
    """Model output explained by SHAP, shape (n_rows, n_outputs)."""
    if inputs.config.task == "multiclass":
        return inputs.model.predict_proba(frame)
    return inputs.model.score_output(frame)[:, None]


def _permutation(inputs: RaiInputs) -> tuple[pd.DataFrame, str]:
    model, task = inputs.model, inputs.config.task
    if task == "binary":
        scoring = "roc_auc"

        def score(_: Any, x: pd.DataFrame, y: Any) -> float:
            return float(roc_auc_score(y == model.positive_label, model.score_output(x)))
    elif task == "multiclass":
        scoring = "neg_log_loss"

        def score(_: Any, x: pd.DataFrame, y: Any) -> float:
            return float(-log_loss(y, model.predict_proba(x), labels=model.classes_))
    else:
        scoring = "r2"

        def score(_: Any, x: pd.DataFrame, y: Any) -> float:
            return float(r2_score(y, model.predict(x)))

    repeats = inputs.config.explanation.permutation_repeats
    result = permutation_importance(
        _Prefitted(),
        inputs.x_test,
        inputs.y_test,
        scoring=score,
        n_repeats=repeats,
        random_state=inputs.config.seed,
        n_jobs=1,
    )
    half = (
        stats.t.ppf(0.975, repeats - 1)
        * result.importances_std
        * np.sqrt(repeats / (repeats - 1))
        / np.sqrt(repeats)
        if repeats > 1
        else np.zeros(len(inputs.features))
    )
    table = pd.DataFrame(
        {
            "feature": list(inputs.features),
            "importance_mean": result.importances_mean,
            "importance_std": result.importances_std,
            "ci_low": result.importances_mean - half,
            "ci_high": result.importances_mean + half,
        }
    ).sort_values(["importance_mean", "feature"], ascending=[False, True])
    table["rank"] = np.arange(1, len(table) + 1)
    return table, scoring


class _Prefitted:
    """Stand-in estimator: the scorer calls the real model, ``fit`` is never needed."""

    def fit(self, *_: Any) -> _Prefitted:
        return self


def _tree_shap(
    inputs: RaiInputs, rows: pd.DataFrame, parts: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Exact tree SHAP of the explained output (``predict_proba`` or ``predict``).

    ``auto``: path-dependent TreeSHAP when the trees' raw output already is the explained
    output (forests, regression trees: checked by additivity), else — raw output in
    log-odds, e.g. boosted classifiers — interventional TreeSHAP in probability space
    against a seeded background sample. ``interventional`` always uses the background.
    Attributions that do not add up to the explained output are never stored: the rows
    are then explained model-agnostically (Kernel SHAP) and the method says why.
    """
    output = _explained_output(inputs, rows)
    transformed = parts.transform(rows)
    if inputs.config.explanation.tree_perturbation == "auto":
        try:
            explainer = shap.TreeExplainer(parts.estimator)
            raw = np.asarray(explainer.shap_values(transformed, check_additivity=False))
            values, base = _select_outputs(inputs, rows, parts, raw, explainer.expected_value)
            if np.max(np.abs(values.sum(axis=1) + base - output), initial=0.0) <= 1e-6:
                return values, base, output, "shap.TreeExplainer (exact, tree_path_dependent)"
        except Exception:  # shap cannot take this model path-dependently: use a background
            pass
    settings, seed = inputs.config.explanation, inputs.config.seed
    background = inputs.x_train.sample(
        n=min(settings.tree_background_rows, len(inputs.x_train)), random_state=seed
    )
    output_space = "probability" if inputs.model.is_classifier else "raw"
    try:
        explainer = shap.TreeExplainer(
            parts.estimator,
            data=parts.transform(background),
            model_output=output_space,
            feature_perturbation="interventional",
        )
        raw = np.asarray(explainer.shap_values(transformed, check_additivity=False))
    except Exception as exc:  # shap does not support this tree model in this output space
        values, base, output, method = _agnostic_shap(inputs, rows)
        return values, base, output, f"{method}; TreeExplainer unavailable: {exc}"
    values, base = _select_outputs(inputs, rows, parts, raw, explainer.expected_value)
    error = float(np.max(np.abs(values.sum(axis=1) + base - output), initial=0.0))
    if error > 1e-6:  # never store inexact tree SHAP values: explain model-agnostically instead
        values, base, output, method = _agnostic_shap(inputs, rows)
        return (
            values,
            base,
            output,
            f"{method}; TreeExplainer's attributions did not add up to the model's output "
            f"(max error {error:.3g})",
        )
    return (
        values,
        base,
        output,
        f"shap.TreeExplainer (exact, interventional, {output_space} output, "
        f"{len(background)} background rows)",
    )


def _select_outputs(
    inputs: RaiInputs, rows: pd.DataFrame, parts: Any, raw: np.ndarray, expected_value: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature attributions (rows, features, outputs) and base values of the
    explained outputs (the positive class for binary)."""
    expected = np.atleast_1d(np.asarray(expected_value, dtype=float))
    if raw.ndim == 2:
        raw = raw[:, :, None]
        expected = expected[-1:] if len(expected) > 1 else expected[:1]
    if raw.ndim == 3 and raw.shape[0] != len(rows):  # older shap: (n_outputs, rows, columns)
        raw = raw.transpose(1, 2, 0)
    if inputs.config.task == "binary" and raw.shape[2] > 1:
        raw = raw[:, :, [inputs.model.positive_index]]
        expected = expected[[inputs.model.positive_index]]
    per_feature = parts.sum_to_features(raw)
    base = np.broadcast_to(expected[: per_feature.shape[2]], (len(rows), per_feature.shape[2]))
    return per_feature, base


def _agnostic_shap(
    inputs: RaiInputs, rows: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    settings, seed = inputs.config.explanation, inputs.config.seed
    columns = list(inputs.features)
    levels = {c: sorted(inputs.x_train[c].astype(str).unique()) for c in inputs.categorical}
    dtypes = inputs.x_train.dtypes

    def encode(frame: pd.DataFrame) -> np.ndarray:
        coded = frame.copy()
        for column, values in levels.items():
            coded[column] = frame[column].astype(str).map({v: i for i, v in enumerate(values)})
        return coded.to_numpy(dtype=float)

    def predict(matrix: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame(matrix, columns=columns)
        for column in columns:
            if column in levels:
                decoded = np.asarray(levels[column], dtype=object)[frame[column].astype(int)]
                frame[column] = pd.Series(decoded).astype(dtypes[column])
            else:
                frame[column] = frame[column].astype(dtypes[column])
        return _explained_output(inputs, frame)

    background = inputs.x_train.sample(
        n=min(settings.background_rows, len(inputs.x_train)), random_state=seed
    )
    explainer = shap.KernelExplainer(predict, encode(background), link="identity")
    n_samples = max(settings.max_evals, 2 * len(columns) + 2)
    np.random.seed(seed)  # KernelExplainer samples coalitions from numpy's global state
    raw = explainer.shap_values(encode(rows), nsamples=n_samples, l1_reg=False, silent=True)
    values = np.asarray(raw, dtype=float)
    if isinstance(raw, list):  # older shap: one array per output
        values = values.transpose(1, 2, 0)
    if values.ndim == 2:
        values = values[:, :, None]
    base = np.broadcast_to(np.atleast_1d(explainer.expected_value), (len(rows), values.shape[2]))
    return (
        values,
        base,
        predict(encode(rows)),
        "shap.KernelExplainer (model-agnostic, on the real model)",
    )

"""What the baseline learns about the *model* from labelled reference rows.

At baseline creation, from the baseline's reservoir sample (targets included
when the reference data has them): the reference performance with bootstrap
intervals, a CBPE calibration for label-free estimation, the realised metrics
CBPE estimates are compared with, and — when the model version names a model —
the real model's permutation importance for attribution drift. Each part that
cannot be built is stored as ``{"error": reason}`` so the signals can say why.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from monitor.baseline.model_input import to_model_input
from monitor.errors import RaiwatchError
from monitor.signals.estimated_performance import fit_cbpe_part
from monitor.signals.multivariate_drift import fit_multivariate_part
from monitor.signals.performance import baseline_performance, window_performance
from monitor.spec.model_version import ModelVersion

ESTIMATED = ("accuracy", "roc_auc", "f1")


def scores_matrix(mv: ModelVersion, frame: pd.DataFrame) -> np.ndarray | None:
    """Score columns as CBPE and the performance metrics expect them."""
    if not mv.scores or any(s not in frame for s in mv.scores):
        return None
    values = frame[list(mv.scores)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return values[:, 0] if mv.task == "binary" else values


def classes_of(mv: ModelVersion) -> tuple[str, ...] | None:
    return tuple(mv.classes) if mv.classes else None


def fit_model_baselines(
    mv: ModelVersion, sample: pd.DataFrame, *, model: Any = None, seed: int = 0
) -> dict[str, Any]:
    """Reference performance, CBPE state and (with a model) importance, as JSON-able dicts."""
    out: dict[str, Any] = {"multivariate": _multivariate_part(mv, sample, seed)}
    target = mv.target
    if not target or target not in sample or sample[target].notna().sum() == 0:
        why = (
            "the model version declares no target column" if not target
            else f"the reference data has no values in the target column {target!r}"
        )  # fmt: skip
        reason = {"error": f"no labelled reference data: {why}; rebuild the baseline with labels"}
        return as_json({**out, "performance": reason, "cbpe": reason, "attribution": reason})
    labelled = sample[sample[target].notna()]
    y = labelled[target].map(label_text) if mv.task != "regression" else labelled[target]
    pred = (
        labelled[mv.prediction].map(label_text)
        if mv.task != "regression"
        else labelled[mv.prediction]
    )
    scores = scores_matrix(mv, labelled)
    try:
        perf = baseline_performance(mv.task, y, pred, scores, classes=classes_of(mv), seed=seed)
        out["performance"] = perf.to_dict()
    except (RaiwatchError, ValueError) as err:
        out["performance"] = {"error": f"reference performance could not be computed: {err}"}
    if mv.task == "regression":
        out["cbpe"] = {"error": "CBPE estimates classifiers; this model is a regression"}
    elif scores is None:
        out["cbpe"] = {"error": "the model version logs no score columns; CBPE needs scores"}
    else:
        try:
            finite = np.isfinite(scores) if scores.ndim == 1 else np.isfinite(scores).all(axis=1)
            finite &= pred.notna().to_numpy()
            part = fit_cbpe_part(
                mv.task,  # type: ignore[arg-type]
                scores[finite],
                y[finite],
                pred[finite],
                classes=classes_of(mv),
                seed=seed,
            )
            realised = window_performance(
                mv.task, y[finite], pred[finite], scores[finite], classes=classes_of(mv)
            ).metrics
            out["cbpe"] = {
                **part,
                "reference": {m: _finite(realised.get(m)) for m in ESTIMATED},
                "dropped_non_finite": int((~finite).sum()),
            }
        except (RaiwatchError, ValueError) as err:
            out["cbpe"] = {"error": f"CBPE could not be calibrated: {err}"}
    if model is None:
        out["attribution"] = {"error": "the model version names no loadable model (model_uri)"}
    else:
        from monitor.signals.attribution_drift import fit_attribution_part

        try:
            out["attribution"] = fit_attribution_part(
                model,
                to_model_input(mv, labelled),
                target_for_model(labelled[target], model),
                mv.task,
                seed=seed,
            )
        except Exception as err:  # a user's model may raise anything; store why
            out["attribution"] = {"error": f"permutation importance of the model failed: {err}"}
    return as_json(out)  # in memory exactly as stored


def _multivariate_part(mv: ModelVersion, sample: pd.DataFrame, seed: int) -> dict[str, Any]:
    numeric = [
        f.name
        for f in mv.monitored_features
        if f.type in ("numeric", "datetime") and f.name in sample
    ]
    categorical = [
        f.name
        for f in mv.monitored_features
        if f.type in ("categorical", "boolean") and f.name in sample
    ]
    return fit_multivariate_part(sample, numeric, categorical, seed=seed)


def as_json(value: Any) -> Any:
    """The value as stored: JSON types only (tuples become lists), NaN/inf become None."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def label_text(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def target_for_model(y: pd.Series, model: Any) -> np.ndarray:
    """Labels in the type the model predicts (models trained on ints predict ints)."""
    classes = getattr(model, "classes_", None)
    if classes is not None and len(classes) and not isinstance(classes[0], str):
        return pd.to_numeric(y, errors="coerce").to_numpy()
    return y.map(label_text).to_numpy() if classes is not None else y.to_numpy()


def _finite(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)

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
from monitor.baseline.model_outputs import (
    as_json,
    classes_of,
    label_text,
    scores_matrix,
    target_for_model,
)
from monitor.errors import RaiwatchError
from monitor.signals.estimated_performance import fit_cbpe_part
from monitor.signals.multivariate_drift import fit_multivariate_part
from monitor.signals.performance import baseline_performance, window_performance
from monitor.spec.model_version import ModelVersion

__all__ = [
    "as_json",
    "classes_of",
    "fit_model_baselines",
    "label_text",
    "scores_matrix",
    "target_for_model",
]

ESTIMATED = ("accuracy", "roc_auc", "f1")


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
    if mv.prediction is None:
        reason = {
            "error": "the model version logs no prediction column; only data drift and quality apply"
        }
        return as_json({**out, "performance": reason, "cbpe": reason, "attribution": reason})
    labelled = sample[sample[target].notna()]
    y = labelled[target].map(label_text) if mv.task != "regression" else labelled[target]
    pred = (
        labelled[mv.prediction].map(label_text)
        if mv.task != "regression"
        else labelled[mv.prediction]
    )
    scores = scores_matrix(mv, labelled)
    # rows with a missing prediction or a non-finite score or prediction say nothing about
    # performance: left out here as the window signals leave them out, and counted
    usable = pred.notna().to_numpy()
    if mv.task == "regression":
        usable &= np.isfinite(
            pd.to_numeric(pred, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        )
    if scores is not None:
        usable &= np.isfinite(scores) if scores.ndim == 1 else np.isfinite(scores).all(axis=1)
    try:
        perf = baseline_performance(
            mv.task, y[usable], pred[usable], None if scores is None else scores[usable],
            classes=classes_of(mv), seed=seed,
        )  # fmt: skip
        out["performance"] = {**perf.to_dict(), "dropped_non_finite": int((~usable).sum())}
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
        from monitor.signals.attribution_drift import fit_attribution_part, scorable_rows

        try:
            usable = labelled[scorable_rows(mv, labelled)]
            out["attribution"] = fit_attribution_part(
                model,
                to_model_input(mv, usable),
                target_for_model(usable[target], model),
                mv.task,
                seed=seed,
            )
            out["attribution"]["rows_left_out_non_finite"] = len(labelled) - len(usable)
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


def _finite(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)

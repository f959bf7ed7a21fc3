"""How labels, predictions and scores are read: the small helpers every model signal shares.

A leaf module (it imports no signal), so signals and the baseline's model parts can
both use it.

>>> label_text(1.0), label_text("yes"), label_text(float("nan"))
('1', 'yes', None)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from monitor.spec.model_version import ModelVersion


def scores_matrix(mv: ModelVersion, frame: pd.DataFrame) -> np.ndarray | None:
    """Score columns as CBPE and the performance metrics expect them."""
    if not mv.scores or any(s not in frame for s in mv.scores):
        return None
    values = frame[list(mv.scores)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return values[:, 0] if mv.task == "binary" else values


def classes_of(mv: ModelVersion) -> tuple[str, ...] | None:
    return tuple(mv.classes) if mv.classes else None


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

"""Labelled rows and the metrics on them: validated labels, predictions and scores.

Labels arrive late and in the encoding of whoever logs them, so every performance
computation (:mod:`monitor.signals.performance`, :mod:`monitor.signals.estimated_performance`) goes through
:func:`prepare_labelled`, which drops rows still unlabelled, encodes classes as integer
codes and checks that scores are probabilities::

    >>> d = prepare_labelled("binary", ["no", "yes", None], ["no", "no", "yes"], [0.1, 0.4, 0.8])
    >>> d.classes, d.y_true.tolist(), d.n_unlabelled
    (('no', 'yes'), [0.0, 1.0], 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from monitor.errors import DataError

__all__ = [
    "LabelledData",
    "binary_auc",
    "check_scores",
    "compute_metrics",
    "encode_labels",
    "is_missing",
    "prepare_labelled",
    "undefined_reasons",
]

Task = Literal["binary", "multiclass", "regression"]


@dataclass(frozen=True)
class LabelledData:
    """Validated labelled rows: class codes (classification) or floats (regression)."""

    task: Task
    y_true: NDArray[np.float64]
    y_pred: NDArray[np.float64]
    scores: NDArray[np.float64] | None
    classes: tuple[Any, ...]
    n_unlabelled: int = 0

    @property
    def n(self) -> int:
        return int(self.y_true.size)

    def take(self, idx: NDArray[np.intp]) -> LabelledData:
        s = None if self.scores is None else self.scores[idx]
        return LabelledData(self.task, self.y_true[idx], self.y_pred[idx], s, self.classes)


def is_missing(values: NDArray[Any]) -> NDArray[np.bool_]:
    """``None``, ``nan``, ``pd.NA`` or ``NaT``: a label that has not arrived."""
    return np.asarray(pd.isna(values), dtype=bool)


def _label_key(v: Any, name: str) -> Any:
    if isinstance(v, bool | np.bool_):
        return int(v)
    if isinstance(v, float | np.floating):
        if not float(v).is_integer():
            raise DataError(
                f"{name} holds the non-integer value {v!r}; classification labels must be "
                "integers, strings or booleans (is the task regression?)"
            )
        return int(v)
    return v.item() if isinstance(v, np.generic) else v


def encode_labels(values: NDArray[Any], name: str, classes: tuple[Any, ...]) -> NDArray[np.float64]:
    """Class codes of ``values`` (labels are matched to ``classes`` by their text)."""
    lookup = {str(c): i for i, c in enumerate(classes)}
    codes, uniques = pd.factorize(
        np.asarray(values, dtype=object)
    )  # Python work per distinct value
    keys = [str(_label_key(v, name)) for v in uniques]
    unknown = sorted({k for k in keys if k not in lookup})
    if unknown:
        raise DataError(
            f"{name} holds labels {unknown[:5]} that are not classes {list(classes)}; labels "
            "and predictions must use the model's class encoding (e.g. both 0/1 or both strings)"
        )
    return np.array([lookup[k] for k in keys], dtype=float)[codes]


def check_scores(scores: ArrayLike, task: Task, n: int, k: int) -> NDArray[np.float64]:
    """Scores as probabilities: ``(n,)`` for binary (a ``(n, 2)`` matrix is reduced), ``(n, k)``."""
    try:
        s = np.asarray(scores, dtype=float)
    except (TypeError, ValueError) as err:
        raise DataError(f"scores must be numeric probabilities: {err}") from err
    if task == "binary" and s.ndim == 2 and s.shape[1] == 2:
        s = s[:, 1] if np.allclose(s.sum(axis=1), 1, atol=1e-4) else s
    want = (n,) if task == "binary" else (n, k)
    if s.shape != want:
        raise DataError(
            f"scores have shape {s.shape}; expected {want} for a {task} model (one column per "
            "class, in the order of classes; pass classes when a class is absent from the data)"
        )
    if np.isnan(s).any() or s.min() < 0 or s.max() > 1:
        raise DataError(
            f"scores must be probabilities in [0, 1] without missing values, got range "
            f"[{np.nanmin(s):.4g}, {np.nanmax(s):.4g}]; log predict_proba, not logits or margins"
        )
    if task == "multiclass":
        sums = s.sum(axis=1)
        bad = np.flatnonzero(np.abs(sums - 1) > 1e-4)
        if bad.size:
            raise DataError(
                f"multiclass scores must sum to 1 on every row; row {bad[0]} sums to "
                f"{sums[bad[0]]:.4g} ({bad.size} rows off); log the softmax probabilities"
            )
    return s


def prepare_labelled(
    task: Task,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    scores: ArrayLike | None = None,
    *,
    classes: tuple[Any, ...] | list[Any] | None = None,
) -> LabelledData:
    """Validate labels, predictions and scores; drop rows whose label has not arrived."""
    if task not in ("binary", "multiclass", "regression"):
        raise DataError(f"task must be 'binary', 'multiclass' or 'regression', got {task!r}")
    yt, yp = np.asarray(y_true, dtype=object).ravel(), np.asarray(y_pred, dtype=object).ravel()
    if yt.size != yp.size:
        raise DataError(f"y_true has {yt.size} rows but y_pred has {yp.size}; align them by id")
    if is_missing(yp).any():
        raise DataError(f"y_pred has {int(is_missing(yp).sum())} missing predictions")
    keep = ~is_missing(yt)
    yt, yp, n_unlabelled = yt[keep], yp[keep], int((~keep).sum())
    if task == "regression":
        try:
            t, p = yt.astype(float), yp.astype(float)
        except (TypeError, ValueError) as err:
            raise DataError(f"regression labels and predictions must be numeric: {err}") from err
        return LabelledData(task, t, p, None, (), n_unlabelled)
    if classes is None:
        found = {_label_key(v, "labels") for v in pd.unique(np.concatenate([yt, yp]))}
        if task == "binary" and found <= {0, 1}:
            found = {0, 1}
        try:
            classes = tuple(sorted(found))
        except TypeError as err:
            kinds = [sorted({type(_label_key(v, "labels")).__name__ for v in a}) for a in (yt, yp)]
            raise DataError(
                f"labels mix types: y_true holds {kinds[0]} values, y_pred holds {kinds[1]}; "
                "labels and predictions must use the same encoding, or pass classes"
            ) from err
    classes = tuple(classes)
    if task == "binary" and len(classes) != 2:
        raise DataError(
            f"a binary model has 2 classes, found {list(classes)[:10]} in y_true and y_pred; "
            "check that labels and predictions use the same encoding, or pass classes"
        )
    t, p = encode_labels(yt, "y_true", classes), encode_labels(yp, "y_pred", classes)
    sc = None if scores is None else check_scores(scores, task, keep.size, len(classes))[keep]
    return LabelledData(task, t, p, sc, classes, n_unlabelled)


def _safe_div(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def binary_auc(positive: NDArray[np.bool_], score: NDArray[np.float64]) -> float:
    """ROC AUC as the Mann-Whitney U over average ranks; ``nan`` without both classes."""
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    from scipy.stats import rankdata

    ranks = rankdata(score)  # ties get their average rank, as in the Mann-Whitney U
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def compute_metrics(data: LabelledData) -> dict[str, float]:
    """Every metric of the task (``nan`` where undefined); macro averages for multiclass."""
    if data.task == "regression":
        err = data.y_pred - data.y_true
        ss_tot = float(((data.y_true - data.y_true.mean()) ** 2).sum())
        r2 = 1 - float((err**2).sum()) / ss_tot if ss_tot > 0 else math.nan
        return {"mae": float(np.abs(err).mean()), "rmse": float(np.sqrt((err**2).mean())), "r2": r2}
    k = len(data.classes)
    yt, yp = data.y_true.astype(int), data.y_pred.astype(int)
    cm = np.bincount(yt * k + yp, minlength=k * k).reshape(k, k).astype(float)
    tp, pred_sum, true_sum = np.diag(cm), cm.sum(axis=0), cm.sum(axis=1)
    per_class = {
        "precision": _safe_div(tp, pred_sum),
        "recall": _safe_div(tp, true_sum),
        "f1": _safe_div(2 * tp, pred_sum + true_sum),
    }
    out = {"accuracy": float(tp.sum() / cm.sum())}
    for name, values in per_class.items():
        if data.task == "binary":
            out[name] = float(values[1])
        else:
            defined = values[~np.isnan(values)]
            out[name] = float(defined.mean()) if defined.size else math.nan
    out["roc_auc"] = out["log_loss"] = math.nan
    if data.scores is not None:
        eps = np.finfo(np.float64).eps
        p = np.clip(data.scores, eps, 1 - eps)
        if data.task == "binary":
            out["roc_auc"] = binary_auc(yt == 1, data.scores)
            out["log_loss"] = float(-np.mean(np.where(yt == 1, np.log(p), np.log1p(-p))))
        else:
            aucs = [binary_auc(yt == c, data.scores[:, c]) for c in range(k)]
            out["roc_auc"] = math.nan if np.isnan(aucs).any() else float(np.mean(aucs))
            out["log_loss"] = float(-np.mean(np.log(p[np.arange(yt.size), yt])))
    return out


def undefined_reasons(data: LabelledData, metrics: dict[str, float]) -> dict[str, str]:
    """Why each ``nan`` metric of :func:`compute_metrics` is undefined on ``data``."""
    present = (
        sorted({data.classes[i] for i in np.unique(data.y_true.astype(int))})
        if (data.task != "regression")
        else []
    )
    reasons = {
        "roc_auc": (
            "ROC AUC is undefined: the model logs no scores"
            if data.scores is None
            else f"ROC AUC is undefined: the window holds labels of {present} only; it needs "
            f"every class of {list(data.classes)}"
        ),
        "log_loss": "log loss is undefined: the model logs no scores",
        "precision": "precision is undefined: no positive predictions in the window",
        "recall": "recall is undefined: no positive labels in the window",
        "f1": "F1 is undefined: no positive labels or predictions in the window",
        "r2": "R² is undefined: every label in the window has the same value",
    }
    return {m: reasons[m] for m, v in metrics.items() if math.isnan(v)}

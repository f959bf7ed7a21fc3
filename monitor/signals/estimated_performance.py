"""Confidence-based performance estimation (CBPE): performance before the labels arrive.

If a classifier's probabilities are calibrated, the expected value of a metric on a window
follows from the probabilities alone. :class:`CBPE` learns a calibration map on labelled
reference data (isotonic regression, kept only when it improves the Brier score on a
held-out data by 5-fold cross-fitting, else the identity), then estimates on unlabelled windows:

* accuracy: the mean calibrated probability of the predicted class (the mean of the largest
  probability when the prediction is the most probable class);
* F1: ``2 TP / (2 TP + FP + FN)`` with expected counts (macro over classes for multiclass);
* ROC AUC: expected correctly ordered (positive, negative) pairs over expected pairs
  (one-vs-rest macro for multiclass).

The band ``(low, high)`` is the range in which the realised metric falls with probability
``1 - alpha`` if the calibration holds: labels are drawn from the calibrated probabilities
``n_sim`` times and the metric recomputed, so it reflects the sampling error at that
window's size. The fitted state is plain numbers (:meth:`CBPE.to_dict`), no pickle.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.isotonic import IsotonicRegression

from monitor.errors import DataError, NotFittedError
from monitor.profiles.labelled_metrics import (
    check_scores,
    encode_labels,
    is_missing,
    prepare_labelled,
)
from monitor.signals.results import SignalResult

__all__ = [
    "CBPE",
    "ESTIMATED_METRICS",
    "estimated_performance_signal_results",
    "expected_metrics",
    "simulate_realised",
]

ESTIMATED_METRICS = ("accuracy", "roc_auc", "f1")
FloatArray = NDArray[np.float64]


def _as_matrix(p: FloatArray) -> FloatArray:
    return np.column_stack([1 - p, p]) if p.ndim == 1 else p


def _expected_auc(prob: FloatArray, score: FloatArray) -> float:
    """E[correctly ordered positive-negative pairs] / E[pairs]; ties count one half."""
    order = np.argsort(score, kind="stable")
    p, s = prob[order], score[order]
    neg = 1 - p
    _, start = np.unique(s, return_index=True)
    below = np.concatenate([[0.0], np.cumsum(neg)])[start]  # negative mass strictly below
    tie_neg = np.add.reduceat(neg, start)
    tie_pos = np.add.reduceat(p, start)
    pairs_ok = np.sum(tie_pos * below) + 0.5 * (np.sum(tie_pos * tie_neg) - np.sum(p * neg))
    pairs = p.sum() * neg.sum() - np.sum(p * neg)
    return float(pairs_ok / pairs) if pairs > 0 else math.nan


def expected_metrics(
    calibrated: FloatArray, scores: FloatArray, predicted: NDArray[np.int_]
) -> dict[str, float]:
    """Expected accuracy, ROC AUC and F1 from calibrated probabilities (one column per class)."""
    prob = _as_matrix(calibrated)
    k = prob.shape[1]
    raw = _as_matrix(scores)
    hit = prob[np.arange(predicted.size), predicted]
    f1s, aucs = [], []
    for c in range(k) if k > 2 else [1]:
        mine = predicted == c
        tp, fp, fn = prob[mine, c].sum(), (1 - prob[mine, c]).sum(), prob[~mine, c].sum()
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else math.nan)
        aucs.append(_expected_auc(prob[:, c], raw[:, c]))
    return {
        "accuracy": float(hit.mean()),
        "roc_auc": float(np.mean(aucs)),
        "f1": float(np.nanmean(f1s)),
    }


def simulate_realised(
    calibrated: FloatArray, scores: FloatArray, predicted: NDArray[np.int_], n_sim: int, seed: int
) -> dict[str, FloatArray]:
    """Realised accuracy, ROC AUC and F1 for ``n_sim`` label draws from ``calibrated``.

    Vectorised over draws: the ranks of the scores do not change between draws, so each
    AUC is a rank sum (ties take their average rank, as in scikit-learn).
    """
    from scipy.stats import rankdata

    rng = np.random.default_rng(seed)
    n, k = calibrated.shape
    if k == 2:  # one comparison per draw instead of a walk through the cumulative sums
        drawn_pos = [rng.uniform(size=(n_sim, n)) < calibrated[:, 1]]
    else:
        drawn = (rng.uniform(size=(n_sim, n, 1)) > np.cumsum(calibrated, axis=1)[None]).sum(axis=2)
        drawn = drawn.clip(max=k - 1)
        drawn_pos = [drawn == c for c in range(k)]
    f1s, aucs, hits = [], [], np.zeros(n_sim)
    for c, pos in zip(range(k) if k > 2 else [1], drawn_pos, strict=True):
        pos = pos.astype(float)  # once: each product below would convert it again
        mine = (predicted == c).astype(float)
        n_pos, n_mine = pos.sum(axis=1), mine.sum()
        tp = pos @ mine
        hits += tp if k > 2 else n - n_pos - n_mine + 2 * tp  # binary: add true negatives
        f1s.append(np.where(n_pos + n_mine > 0, 2 * tp / np.maximum(n_pos + n_mine, 1), np.nan))
        pairs = n_pos * (n - n_pos)
        rank_sum = pos @ rankdata(scores[:, c])
        auc = (rank_sum - n_pos * (n_pos + 1) / 2) / np.maximum(pairs, 1)
        aucs.append(np.where(pairs > 0, auc, np.nan))
    out = {"accuracy": hits / n}
    f1 = np.array(f1s)
    defined = (~np.isnan(f1)).sum(axis=0)
    out["f1"] = np.where(defined > 0, np.nansum(f1, axis=0) / np.maximum(defined, 1), np.nan)
    out["roc_auc"] = np.array(aucs).mean(axis=0)  # nan when a class was never drawn
    return out


class CBPE:
    """Estimate accuracy, ROC AUC and F1 of a classifier on unlabelled windows.

    Parameters
    ----------
    task
        ``binary`` or ``multiclass``.
    classes
        Class labels in score-column order (binary: ``(negative, positive)``).
    calibration
        ``auto`` (isotonic when it lowers the cross-fitted Brier score), ``isotonic`` or ``identity``.
    n_sim, alpha, seed
        Label simulations for the band, its level, and the seed (recorded in the state).
    """

    def __init__(
        self,
        task: Literal["binary", "multiclass"],
        *,
        classes: tuple[Any, ...] | list[Any] | None = None,
        calibration: Literal["auto", "isotonic", "identity"] = "auto",
        n_sim: int = 200,
        alpha: float = 0.05,
        seed: int = 0,
    ) -> None:
        if task not in ("binary", "multiclass"):
            raise DataError(
                f"CBPE estimates classifiers; task must be 'binary' or 'multiclass', got {task!r}"
            )
        if calibration not in ("auto", "isotonic", "identity"):
            raise DataError(
                f"calibration must be 'auto', 'isotonic' or 'identity', got {calibration!r}"
            )
        self.task, self.classes, self.calibration = task, classes, calibration
        self.n_sim, self.alpha, self.seed = n_sim, alpha, seed

    # --- calibration ---------------------------------------------------------------------
    @staticmethod
    def _fit_maps(prob: FloatArray, y: NDArray[np.int_]) -> list[tuple[list[float], list[float]]]:
        maps = []  # binary: one map for the positive class; multiclass: one per class
        for c in [1] if prob.shape[1] == 2 else range(prob.shape[1]):
            iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(prob[:, c], y == c)
            maps.append((iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist()))
        return maps

    @staticmethod
    def _apply(maps: list[tuple[list[float], list[float]]] | None, prob: FloatArray) -> FloatArray:
        if maps is None:
            return prob
        if prob.shape[1] == 2:
            return _as_matrix(np.interp(prob[:, 1], *maps[0]))
        out = np.column_stack([np.interp(prob[:, c], *maps[c]) for c in range(prob.shape[1])])
        total = out.sum(axis=1, keepdims=True)
        return np.divide(out, total, out=np.full_like(out, 1 / out.shape[1]), where=total > 0)

    def fit(self, reference_scores: ArrayLike, reference_labels: ArrayLike) -> CBPE:
        """Learn the calibration on labelled reference scores; unlabelled rows are skipped.

        Raises
        ------
        DataError
            Fewer than 20 labelled rows, labels outside ``classes`` or scores that are not
            probabilities.
        """
        labels = np.asarray(reference_labels, dtype=object).ravel()
        keep = ~is_missing(labels)
        scores = np.asarray(reference_scores)
        if scores.shape[:1] != labels.shape:
            raise DataError(f"reference scores have {scores.shape[0]} rows, labels {labels.size}")
        data = prepare_labelled(
            self.task, labels[keep], labels[keep], scores[keep], classes=self.classes
        )
        if data.n < 20:
            raise DataError(
                f"CBPE needs at least 20 labelled reference rows to learn its calibration, got "
                f"{data.n}; build the baseline from labelled reference data"
            )
        assert data.scores is not None
        prob, y = _as_matrix(data.scores), data.y_true.astype(int)
        fold = np.random.default_rng(self.seed).permutation(data.n) % 5
        out_of_fold = np.empty_like(prob)  # each row calibrated by maps fitted without it
        for f in range(5):
            maps = self._fit_maps(prob[fold != f], y[fold != f])
            out_of_fold[fold == f] = self._apply(maps, prob[fold == f])
        self.cv_brier_ = {"identity": _brier(prob, y), "isotonic": _brier(out_of_fold, y)}
        best = "isotonic" if self.cv_brier_["isotonic"] < self.cv_brier_["identity"] else "identity"
        self.calibration_ = best if self.calibration == "auto" else self.calibration
        self.classes_ = data.classes
        self.maps_ = self._fit_maps(prob, y) if self.calibration_ == "isotonic" else None
        return self

    def _window(
        self, scores: ArrayLike, predictions: ArrayLike | None
    ) -> tuple[FloatArray, NDArray[np.int_]]:
        if not hasattr(self, "classes_"):
            raise NotFittedError(
                "this CBPE is not fitted; call fit(reference_scores, reference_labels)"
            )
        raw = check_scores(scores, self.task, len(np.asarray(scores)), len(self.classes_))
        if predictions is None:
            pred = _as_matrix(raw).argmax(axis=1)
        else:
            labels = np.asarray(predictions, dtype=object).ravel()
            if labels.size != raw.shape[0]:
                raise DataError(f"{labels.size} predictions for {raw.shape[0]} rows of scores")
            pred = encode_labels(labels, "predictions", self.classes_).astype(int)
        return raw, pred

    def estimate(
        self, window_scores: ArrayLike, window_predictions: ArrayLike | None = None
    ) -> dict[str, tuple[float, float, float]]:
        """Estimated ``{metric: (estimate, low, high)}`` for accuracy, ROC AUC and F1.

        ``window_predictions`` are the model's predicted labels; by default the most probable
        class of the raw scores (a 0.5 threshold for binary models). An empty window gives
        ``nan`` everywhere.
        """
        raw, pred = self._window(window_scores, window_predictions)
        if pred.size == 0:
            return {m: (math.nan, math.nan, math.nan) for m in ESTIMATED_METRICS}
        calibrated = _as_matrix(self._apply(self.maps_, _as_matrix(raw)))
        point = expected_metrics(calibrated, _as_matrix(raw), pred)
        sims = simulate_realised(calibrated, _as_matrix(raw), pred, self.n_sim, self.seed)
        out = {}
        for m in ESTIMATED_METRICS:
            s = sims[m][~np.isnan(sims[m])]
            low, high = (
                np.quantile(s, [self.alpha / 2, 1 - self.alpha / 2])
                if s.size
                else (math.nan, math.nan)
            )
            out[m] = (point[m], float(low), float(high))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON-compatible numbers (with the seed)."""
        if not hasattr(self, "classes_"):
            raise NotFittedError(
                "this CBPE is not fitted; call fit(reference_scores, reference_labels)"
            )
        return {**{k: getattr(self, k) for k in _STATE_KEYS}, "classes_": list(self.classes_)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CBPE:
        """Rebuild a fitted estimator from :meth:`to_dict`."""
        settings = {k: data[k] for k in ("calibration", "n_sim", "alpha", "seed")}
        est = cls(data["task"], classes=tuple(data["classes_"]), **settings)
        est.classes_ = tuple(data["classes_"])
        est.calibration_, est.cv_brier_ = data["calibration_"], data["cv_brier_"]
        est.maps_ = (
            None if data["maps_"] is None else [(list(x), list(y)) for x, y in data["maps_"]]
        )
        return est


_STATE_KEYS = ("task", "calibration", "n_sim", "alpha", "seed",
               "calibration_", "cv_brier_", "maps_")  # fmt: skip


def _brier(prob: FloatArray, y: NDArray[np.int_]) -> float:
    return float(np.mean(np.sum((prob - np.eye(prob.shape[1])[y]) ** 2, axis=1)))


def estimated_performance_signal_results(
    estimates: dict[str, tuple[float, float, float]],
    reference: dict[str, float] | None,
    *,
    n: int,
    max_drop: float | None = None,
) -> list[SignalResult]:
    """One ``estimated_performance`` result per metric.

    The limit is ``reference - 3 sigma`` where ``sigma`` is the band's half-width over 1.96
    (the metric's sampling error at this window size), or ``reference * (1 - max_drop)``.
    ``reference`` holds the realised reference metrics; ``None`` when it had no labels.
    """
    results = []
    for m, (value, low, high) in estimates.items():
        ref = math.nan if reference is None else reference.get(m, math.nan)
        if n == 0 or math.isnan(value) or math.isnan(ref):
            why = ("no labelled reference data to compare with" if reference is None
                   else "the window is empty" if n == 0
                   else f"{m} cannot be estimated or compared on this window")  # fmt: skip
            results.append(SignalResult("estimated_performance", None, m, None, None, "no_data",
                                        current_size=n, message=why))  # fmt: skip
            continue
        sigma = (high - low) / (2 * 1.96)
        limit = ref * (1 - max_drop) if max_drop is not None else ref - 3 * sigma
        status = "alert" if value < limit else "ok"
        results.append(SignalResult(
            "estimated_performance", None, m, value, limit, status, current_size=n,
            message=f"estimated {m} {value:.4g} (band {low:.4g}-{high:.4g}) vs limit {limit:.4g}",
            details={"low": low, "high": high, "reference": ref},
        ))  # fmt: skip
    return results

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

:meth:`CBPE.estimate` also gives a band ``(low, high)`` in which the *realised* metric falls
with probability ``1 - alpha`` if the calibration holds (labels drawn from the calibrated
probabilities ``n_sim`` times). The fitted state is plain numbers (:meth:`CBPE.to_dict`).

The ``estimated_performance`` signal (:func:`evaluate`) judges the *estimate*: everything is
fitted once at baseline creation (:func:`fit_cbpe_part`: the calibration on half of the
labelled reference rows, the reference estimate and its bootstrap spread on the other half);
a window's estimate is compared with the reference estimate by a one-sided z-test with the
standard error of both at their sizes, Holm across the metrics, and pages only when the
estimated drop is also at least ``min_effect``. Windows with fewer than ``min_rows`` scored
rows are ``no_data``; rows with a non-finite score are left out and counted.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import Field
from scipy.stats import norm
from sklearn.isotonic import IsotonicRegression

from monitor.baseline.model_outputs import label_text, scores_matrix
from monitor.errors import DataError, NotFittedError, RaiwatchError
from monitor.ingest.log_rows import LABEL_COLUMN
from monitor.profiles.labelled_metrics import (
    check_scores,
    encode_labels,
    is_missing,
    prepare_labelled,
)
from monitor.signals.base import SignalSettings, error, no_data
from monitor.signals.performance import PerformanceSettings, _window_metrics, holm
from monitor.signals.results import SignalResult

if TYPE_CHECKING:
    from monitor.signals.base import SignalContext

__all__ = [
    "CBPE",
    "ESTIMATED_METRICS",
    "EstimatedPerformanceSettings",
    "evaluate",
    "expected_metrics",
    "fit_cbpe_part",
    "judge_window",
    "simulate_realised",
]

EstimatedMetric = Literal["accuracy", "roc_auc", "f1"]
ESTIMATED_METRICS: tuple[EstimatedMetric, ...] = ("accuracy", "roc_auc", "f1")
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

    def point_estimate(
        self, window_scores: ArrayLike, window_predictions: ArrayLike | None = None
    ) -> dict[str, float]:
        """Expected ``{metric: value}`` for accuracy, ROC AUC and F1 (no simulated band)."""
        raw, pred = self._window(window_scores, window_predictions)
        if pred.size == 0:
            return dict.fromkeys(ESTIMATED_METRICS, math.nan)
        calibrated = _as_matrix(self._apply(self.maps_, _as_matrix(raw)))
        return expected_metrics(calibrated, _as_matrix(raw), pred)

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
        out: dict[str, tuple[float, float, float]] = {}
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


# --- the signal ---------------------------------------------------------------------------

SIGNAL = "estimated_performance"
N_BOOT = 500  # bootstrap resamples of the reference estimate, at baseline creation


class EstimatedPerformanceSettings(SignalSettings):
    """``signals.estimated_performance`` (classifiers with logged scores).

    Parameters
    ----------
    metrics
        Estimated metrics judged (default accuracy, ROC AUC and F1); Holm across them.
    min_rows
        Fewer scored window rows than this give ``no_data`` (default 100): the estimate's
        normal law is not to be trusted on a handful of rows.
    min_effect
        The smallest absolute drop of an estimated metric that pages (default 0.05, e.g.
        accuracy 0.90 → 0.85); a significant smaller drop is a ``warning``.
    realised_min_labels
        Once the window has at least this many labelled rows (default 100, performance's
        ``min_labels``), each result also carries the realised value of its metric on them
        in ``details["realised"]`` (and their count in ``details["realised_rows"]``), so the
        estimate and the truth can be shown together.
    """

    metrics: tuple[EstimatedMetric, ...] = Field(default=ESTIMATED_METRICS, min_length=1)
    min_rows: int = Field(default=100, ge=20)
    min_effect: float = Field(default=0.05, gt=0, lt=1)
    realised_min_labels: int = Field(
        default=PerformanceSettings.model_fields["min_labels"].default, ge=10
    )


def fit_cbpe_part(
    task: Literal["binary", "multiclass"],
    scores: FloatArray,
    labels: ArrayLike,
    predictions: ArrayLike,
    *,
    classes: tuple[Any, ...] | None,
    seed: int = 0,
    n_boot: int = N_BOOT,
    calibration: Literal["auto", "isotonic", "identity"] = "auto",
) -> dict[str, Any]:
    """Fit at baseline creation: the calibration, the reference estimate and its spread.

    The labelled reference rows are split in two (seeded): the calibration is learnt on one
    half and the reference estimate is computed on the other, so that under no change the
    reference estimate and a window's are means over i.i.d. rows of the same fixed map.
    ``estimate_sd_unit[m]`` is the bootstrap standard deviation of the estimate of ``m`` on
    the held-out half times ``sqrt(reference_size)``: the estimate on ``n`` rows from the
    reference distribution has standard error ``estimate_sd_unit / sqrt(n)``.
    """
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=object)
    preds = np.asarray(predictions, dtype=object)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(preds))
    fit_rows, held = order[: len(order) // 2], order[len(order) // 2 :]
    cbpe = CBPE(task, classes=classes, calibration=calibration, seed=seed).fit(
        scores[fit_rows], labels[fit_rows]
    )
    scores, preds = scores[held], preds[held]
    point = cbpe.point_estimate(scores, preds)
    m = len(preds)
    boots = [
        cbpe.point_estimate(scores[idx], preds[idx])
        for idx in (rng.integers(0, m, m) for _ in range(n_boot))
    ]
    sd_unit = {}
    for k in ESTIMATED_METRICS:
        values = np.array([b[k] for b in boots])
        ok = values[np.isfinite(values)]
        sd_unit[k] = float(ok.std(ddof=1) * math.sqrt(m)) if ok.size >= n_boot // 2 else None
    return {
        "state": cbpe.to_dict(),
        "reference_estimate": {k: (v if math.isfinite(v) else None) for k, v in point.items()},
        "estimate_sd_unit": sd_unit,
        "reference_size": m,
        "calibration_rows": len(fit_rows),
        "n_boot": n_boot,
        "seed": seed,
    }


def _window_scores(mv: Any, sample: Any) -> tuple[FloatArray | None, NDArray[Any], int]:
    """The window's scores and predictions; rows with a non-finite score or no prediction dropped."""

    scores = scores_matrix(mv, sample)
    if scores is None or mv.prediction not in sample:
        return None, np.empty(0, dtype=object), 0
    preds = sample[mv.prediction].map(label_text).to_numpy(dtype=object)
    finite = np.isfinite(scores) if scores.ndim == 1 else np.isfinite(scores).all(axis=1)
    keep = finite & ~is_missing(preds)
    return scores[keep], preds[keep], int((~keep).sum())


def _judge(
    metric: str,
    value: float,
    part: dict[str, Any],
    n: int,
    *,
    alpha: float,
    rejected: bool,
    p: float,
    settings: EstimatedPerformanceSettings,
    note: str,
) -> SignalResult:
    ref, m = part["reference_estimate"][metric], int(part["reference_size"])
    drop = ref - value
    status: Literal["ok", "warning", "alert"] = (
        "ok" if not rejected else "alert" if drop >= settings.min_effect else "warning"
    )
    se = part["estimate_sd_unit"][metric] * math.sqrt(1 / n + 1 / m)
    return SignalResult(
        signal=SIGNAL, metric=metric, value=value, threshold=ref - settings.min_effect, status=status,
        p_value=p, statistic=drop / se if se > 0 else None, alpha=alpha, effect_size=drop,
        min_effect=settings.min_effect, correction="holm", reference_size=m, current_size=n,
        message=(
            f"estimated {metric} {value:.4g} vs {ref:.4g} estimated on the reference (drop {drop:+.4g}, "
            f"pages from {settings.min_effect}); one-sided z-test p={p:.3g} at alpha {alpha:.3g}{note}"
        ),
        details={
            "reference_estimate": ref, "reference_realised": (part.get("reference") or {}).get(metric),
            "standard_error": se, "test": "one-sided z, SE of both estimates at their sizes",
        },
    )  # fmt: skip


def evaluate(context: SignalContext, settings: EstimatedPerformanceSettings) -> list[SignalResult]:
    """Each estimated metric on the window vs the reference estimate: a one-sided z-test.

    ``z = (reference - window) / (sd_unit * sqrt(1/n + 1/m))``; ``alert`` when Holm rejects
    at the signal's alpha and the drop is at least ``min_effect``. When labels have arrived
    for at least ``realised_min_labels`` rows, each result carries the realised metric.
    """
    return _with_realised(context, settings, _estimate(context, settings))


def _with_realised(
    context: SignalContext, settings: EstimatedPerformanceSettings, results: list[SignalResult]
) -> list[SignalResult]:
    """``details["realised"]``: the metric on the window's labelled rows, as performance computes it."""
    labelled, mv = context.labelled, context.model_version
    if labelled is None or LABEL_COLUMN not in labelled or mv.task == "regression":
        return results
    if int(labelled[LABEL_COLUMN].notna().sum()) < settings.realised_min_labels:
        return results
    try:
        realised, sizes, undefined, _, _ = _window_metrics(
            mv.task, labelled, mv, 0, getattr(getattr(context.baseline, "plan", None), "seed", 0)
        )
    except (RaiwatchError, ValueError):
        return results  # performance reports why the labelled rows cannot be scored
    out = []
    for r in results:
        value = realised.get(r.metric, math.nan)
        shown = None if r.metric in undefined or not math.isfinite(value) else float(value)
        details = {**r.details, "realised": shown, "realised_rows": sizes.get(r.metric)}
        out.append(r.replace(details=details))
    return out


def _estimate(context: SignalContext, settings: EstimatedPerformanceSettings) -> list[SignalResult]:
    mv = context.model_version
    metrics = list(dict.fromkeys(settings.metrics))

    def none(why: str, n: int | None = None) -> list[SignalResult]:
        return [no_data(SIGNAL, k, why, n=n) for k in metrics]

    if mv.task == "regression":
        return none("CBPE estimates classifiers; this model is a regression")
    part = (context.baseline.performance or {}).get("cbpe")
    if part is None or ("error" not in part and "estimate_sd_unit" not in part):
        return none(
            "the baseline has no CBPE state fitted for this test; rebuild it with `raiwatch baseline create`"
        )
    if "error" in part:
        return none(str(part["error"]))
    sample = context.window.reservoir.to_pandas()
    scores, preds, dropped = _window_scores(mv, sample)
    if scores is None:
        return none(
            "the window has no score columns or no prediction column; CBPE needs both", len(sample)
        )
    return judge_window(
        part, scores, preds, alpha=context.alpha(SIGNAL), settings=settings, dropped=dropped
    )


def judge_window(
    part: dict[str, Any],
    scores: ArrayLike,
    predictions: ArrayLike,
    *,
    alpha: float,
    settings: EstimatedPerformanceSettings,
    dropped: int = 0,
) -> list[SignalResult]:
    """Judge a window's finite scores and predictions against the baseline's CBPE part."""
    metrics = list(dict.fromkeys(settings.metrics))
    preds = np.asarray(predictions, dtype=object)
    n = len(preds)
    note = (
        f"; {dropped} row(s) with a non-finite score or no prediction left out" if dropped else ""
    )
    if n < settings.min_rows:
        why = f"the window has {n} scored rows{note}; estimated performance needs at least {settings.min_rows}"
        return [no_data(SIGNAL, k, why, n=n) for k in metrics]
    try:
        estimate = CBPE.from_dict(part["state"]).point_estimate(scores, preds)
    except (RaiwatchError, ValueError) as err:
        return [
            error(SIGNAL, k, f"CBPE could not estimate this window: {err}", n=n) for k in metrics
        ]
    judged, p_values, out = [], [], {}
    for k in metrics:
        ref, sd_unit, value = (
            part["reference_estimate"].get(k),
            part["estimate_sd_unit"].get(k),
            estimate[k],
        )
        if ref is None or sd_unit is None or not math.isfinite(value):
            where = (
                "on this window" if ref is not None and sd_unit is not None else "on the reference"
            )
            out[k] = no_data(
                SIGNAL,
                k,
                f"{k} cannot be estimated {where} (e.g. a single predicted class){note}",
                n=n,
            )
            continue
        se = sd_unit * math.sqrt(1 / n + 1 / int(part["reference_size"]))
        drop = ref - value
        p = float(norm.sf(drop / se)) if se > 0 else (0.0 if drop > 0 else 1.0)
        judged.append(k)
        p_values.append(p)
    levels, rejected = holm(p_values, alpha)
    for k, p, level, rej in zip(judged, p_values, levels, rejected, strict=True):
        out[k] = _judge(
            k, estimate[k], part, n, alpha=level, rejected=rej, p=p, settings=settings, note=note
        )
    return [out[k] for k in metrics]

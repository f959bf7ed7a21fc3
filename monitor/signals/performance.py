"""Model performance on labelled windows, compared with the baseline's own variability.

Metrics are computed with NumPy (fast enough to bootstrap); the tests pin each one to
scikit-learn. A metric that is undefined on a window (ROC AUC with one class, precision
without positive predictions) is ``nan`` with a reason, and becomes a ``no_data`` result::

    >>> w = window_performance("binary", [0, 1, 1, 0], [0, 1, 0, 0], [0.2, 0.9, 0.4, 0.1])
    >>> round(w.metrics["accuracy"], 2), round(w.metrics["roc_auc"], 2)
    (0.75, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pydantic import Field, field_validator
from scipy.stats import norm

from monitor.baseline.model_outputs import classes_of, label_text, scores_matrix
from monitor.errors import DataError, RaiwatchError
from monitor.ingest.log_rows import LABEL_COLUMN
from monitor.metrics._two_sample import holm_levels
from monitor.profiles.labelled_metrics import (
    LabelledData,
    Task,
    compute_metrics,
    prepare_labelled,
    undefined_reasons,
)
from monitor.signals.base import SignalSettings, error, no_data
from monitor.signals.results import SignalResult, Status

if TYPE_CHECKING:
    from monitor.signals.base import SignalContext

__all__ = [
    "CLASSIFICATION_METRICS",
    "HIGHER_IS_BETTER",
    "LOWER_IS_BETTER",
    "NO_LABELS",
    "REGRESSION_METRICS",
    "BaselinePerformance",
    "MetricBaseline",
    "PerformanceSettings",
    "WindowPerformance",
    "baseline_performance",
    "bootstrap_intervals",
    "evaluate",
    "holm",
    "judge_metrics",
    "measure_window",
    "performance_metrics",
    "window_performance",
]

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION_METRICS = ("mae", "rmse", "r2")
LOWER_IS_BETTER = ("log_loss", "mae", "rmse")
HIGHER_IS_BETTER = {
    m: m not in LOWER_IS_BETTER for m in CLASSIFICATION_METRICS + REGRESSION_METRICS
}
NO_LABELS = "no labels have arrived for this window yet"
NO_SOURCE = "no label source was given for this run"


@dataclass(frozen=True)
class WindowPerformance:
    """Metrics of one window; ``undefined`` maps each ``nan`` metric to the reason."""

    task: Task
    n: int
    metrics: dict[str, float]
    undefined: dict[str, str] = field(default_factory=dict)
    n_unlabelled: int = 0


def window_performance(
    task: Task,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    scores: ArrayLike | None = None,
    *,
    classes: tuple[str, ...] | list[Any] | None = None,
) -> WindowPerformance:
    """Compute the metrics of a window, dropping rows whose label has not arrived.

    Parameters
    ----------
    task
        ``binary``, ``multiclass`` or ``regression``.
    y_true, y_pred
        Labels (``None``/``nan`` for rows still unlabelled) and predictions.
    scores
        Binary: probability of the positive class (``classes[-1]``); multiclass: one column
        per class in ``classes`` order, rows summing to 1. ``None`` when not logged.
    classes
        Class labels (as declared in the model version); inferred from the data when omitted.

    Raises
    ------
    DataError
        Labels of the wrong type, scores outside [0, 1] or not summing to 1.
    """
    data = prepare_labelled(task, y_true, y_pred, scores, classes=classes)
    if data.n == 0:
        nan = dict.fromkeys(REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS)
        return WindowPerformance(
            task, 0, {m: math.nan for m in nan}, dict.fromkeys(nan, NO_LABELS), data.n_unlabelled
        )
    metrics = compute_metrics(data)
    return WindowPerformance(
        task, data.n, metrics, undefined_reasons(data, metrics), data.n_unlabelled
    )


def performance_metrics(
    task: Task,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    scores: ArrayLike | None = None,
    *,
    classes: tuple[str, ...] | list[Any] | None = None,
) -> dict[str, float]:
    """The metrics of :func:`window_performance` (``nan`` where undefined)."""
    return window_performance(task, y_true, y_pred, scores, classes=classes).metrics


def holm(p_values: Sequence[float], alpha: float) -> tuple[list[float], list[bool]]:
    """Holm's step-down procedure at family-wise level ``alpha``.

    Returns, for each p-value, the level it was compared with
    (:func:`monitor.metrics._two_sample.holm_levels`) and whether it is rejected.

    >>> holm([0.004, 0.03, 0.012], 0.05)
    ([0.016666666666666666, 0.05, 0.025], [True, True, True])
    >>> holm([0.003, 0.03, 0.04], 0.01)[1]
    [True, False, False]
    """
    levels = [float(lvl) if lvl is not None else 0.0 for lvl in holm_levels(list(p_values), alpha)]
    return levels, [alpha > 0 and p < lvl for p, lvl in zip(p_values, levels, strict=True)]


def _bootstrap(data: LabelledData, n_boot: int, seed: int) -> dict[str, NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    rows: list[dict[str, float]] = []
    for _ in range(n_boot):
        idx = rng.integers(0, data.n, data.n)
        rows.append(compute_metrics(data.take(idx)))
    return {m: np.array([r[m] for r in rows]) for m in rows[0]}


def _interval(samples: NDArray[np.float64], alpha: float) -> tuple[float, float]:
    ok = samples[~np.isnan(samples)]
    if ok.size < samples.size / 2:  # the metric is undefined on most resamples
        return (math.nan, math.nan)
    return (float(np.quantile(ok, alpha / 2)), float(np.quantile(ok, 1 - alpha / 2)))


def bootstrap_intervals(
    task: Task,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    scores: ArrayLike | None = None,
    *,
    classes: tuple[str, ...] | list[Any] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap ``(low, high)`` interval of every metric at level ``1 - alpha``."""
    data = prepare_labelled(task, y_true, y_pred, scores, classes=classes)
    if data.n == 0:
        raise DataError("cannot bootstrap the metrics: no labelled rows")
    return {m: _interval(s, alpha) for m, s in _bootstrap(data, n_boot, seed).items()}


@dataclass(frozen=True)
class MetricBaseline:
    """A baseline metric: value, bootstrap interval and bootstrap standard deviation."""

    value: float
    low: float
    high: float
    std: float


@dataclass(frozen=True)
class BaselinePerformance:
    """Reference performance stored with the baseline (JSON-serialisable, seed recorded)."""

    task: Task
    n: int
    metrics: dict[str, MetricBaseline]
    undefined: dict[str, str]
    classes: tuple[Any, ...] = ()
    n_boot: int = 200
    seed: int = 0
    alpha: float = 0.05

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form (non-finite numbers as ``None``)."""
        d = asdict(self)
        d["metrics"] = {
            m: {k: (v if math.isfinite(v) else None) for k, v in b.items()}
            for m, b in d["metrics"].items()
        }
        d["classes"] = list(self.classes)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BaselinePerformance:
        """Inverse of :meth:`to_dict` (the baseline's count of rows left out is not a field)."""
        data = {k: v for k, v in data.items() if k != "dropped_non_finite"}
        metrics = {
            m: MetricBaseline(**{k: math.nan if v is None else v for k, v in b.items()})
            for m, b in data["metrics"].items()
        }
        return cls(**{**data, "metrics": metrics, "classes": tuple(data["classes"])})


def baseline_performance(
    task: Task,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    scores: ArrayLike | None = None,
    *,
    classes: tuple[Any, ...] | list[Any] | None = None,
    n_boot: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
) -> BaselinePerformance:
    """Reference metrics with their percentile bootstrap interval and bootstrap std.

    Raises
    ------
    DataError
        When no reference row is labelled (the monitor then reports why it cannot run).
    """
    data = prepare_labelled(task, y_true, y_pred, scores, classes=classes)
    if data.n == 0:
        raise DataError("the reference data has no labels; pass the target column")
    point = compute_metrics(data)
    samples = _bootstrap(data, n_boot, seed)
    metrics = {
        m: MetricBaseline(point[m], *_interval(samples[m], alpha), float(np.nanstd(samples[m])))
        for m in point
    }
    return BaselinePerformance(
        task, data.n, metrics, undefined_reasons(data, point), data.classes, n_boot, seed, alpha
    )


# --- the signal ---------------------------------------------------------------------------

SIGNAL = "performance"
SCORE_METRICS = ("roc_auc", "log_loss")  # need scores; the others need labels and predictions
RELATIVE_EFFECT = ("log_loss", "mae", "rmse")
SCORE_ERROR = "the window's scores cannot be used: "  # marks an undefined metric as an error  # unbounded: min effect relative to the reference


class PerformanceSettings(SignalSettings):
    """``signals.performance`` (realised metrics, once labels have arrived).

    Parameters
    ----------
    metrics
        Metrics judged (default: all of the task); Holm across them.
    min_labels
        Fewer labelled window rows than this give ``no_data`` (default 100).
    min_effect
        The smallest absolute drop that pages for accuracy, precision, recall, F1, ROC AUC
        and R² (default 0.05, e.g. accuracy 0.90 → 0.85).
    min_relative_effect
        The smallest increase that pages for log loss, MAE and RMSE, as a share of the
        reference value (default 0.10: 10 % worse); the result states it in the metric's units.
    window_bootstrap, bootstrap_below
        A window with fewer than ``bootstrap_below`` labelled rows (default 2000) is also
        bootstrapped (``window_bootstrap`` resamples, default 200, seeded) and its standard
        error is the larger of that and the reference's scaled to its size: on small
        windows the metrics are skewed and the scaled error alone pages too often.
    """

    metrics: tuple[str, ...] | None = None
    min_labels: int = Field(default=100, ge=10)
    min_effect: float = Field(default=0.05, gt=0, lt=1)
    min_relative_effect: float = Field(default=0.10, gt=0)
    window_bootstrap: int = Field(default=200, ge=0)
    bootstrap_below: int = Field(default=2000, ge=0)

    @field_validator("metrics")
    @classmethod
    def _known(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        known = CLASSIFICATION_METRICS + REGRESSION_METRICS
        bad = [m for m in value or () if m not in known]
        if bad:
            raise ValueError(f"unknown performance metric(s) {bad}; choose from {list(known)}")
        return value


def measure_window(
    task: Task,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    scores: ArrayLike | None = None,
    *,
    classes: tuple[Any, ...] | list[Any] | None = None,
    n_boot: int = 0,
    seed: int = 0,
) -> tuple[WindowPerformance, dict[str, float]]:
    """:func:`window_performance` and, with ``n_boot``, each metric's bootstrap standard error."""
    window = window_performance(task, y_true, y_pred, scores, classes=classes)
    if n_boot <= 0 or window.n < 2:
        return window, {}
    data = prepare_labelled(task, y_true, y_pred, scores, classes=classes)
    samples = _bootstrap(data, n_boot, seed)
    se = {}
    for m, v in samples.items():
        ok = v[np.isfinite(v)]
        if ok.size >= n_boot / 2:
            se[m] = float(ok.std())
    return window, se


def _window_metrics(
    task: Task, labelled: pd.DataFrame, mv: Any, n_boot: int, seed: int
) -> tuple[dict[str, float], dict[str, int], dict[str, str], dict[str, float], str]:
    """Metrics of the labelled rows; score metrics only on rows whose scores are finite.

    Returns the metrics, the rows each was computed on, why any is undefined, and a note
    on the rows left out (no prediction, non-finite values).
    """

    has_label = labelled[LABEL_COLUMN].notna()
    rows = labelled[has_label & labelled[mv.prediction].notna()]
    no_pred = int(has_label.sum()) - len(rows)
    note = f"; {no_pred} labelled row(s) without a prediction left out" if no_pred else ""
    text = task != "regression"
    y = rows[LABEL_COLUMN].map(label_text) if text else rows[LABEL_COLUMN]
    pred = rows[mv.prediction].map(label_text) if text else rows[mv.prediction]
    if task == "regression":
        y_num = pd.to_numeric(y, errors="coerce").to_numpy(dtype=float)
        p_num = pd.to_numeric(pred, errors="coerce").to_numpy(dtype=float)
        finite = np.isfinite(y_num) & np.isfinite(p_num)
        w, se = measure_window(task, y_num[finite], p_num[finite], n_boot=n_boot, seed=seed)
        n = int(finite.sum())
        if n < len(rows):
            note += f"; {len(rows) - n} row(s) with a non-finite label or prediction left out"
        return w.metrics, dict.fromkeys(w.metrics, n), w.undefined, se, note
    base, se = measure_window(task, y, pred, classes=classes_of(mv), n_boot=n_boot, seed=seed)
    metrics, sizes, undefined = (
        dict(base.metrics),
        dict.fromkeys(base.metrics, base.n),
        dict(base.undefined),
    )
    scores = scores_matrix(mv, rows)
    if scores is None:
        for m in SCORE_METRICS:
            undefined[m] = f"{m} is undefined: the model version logs no score columns"
    else:
        finite = np.isfinite(scores) if scores.ndim == 1 else np.isfinite(scores).all(axis=1)
        dropped = int((~finite).sum())
        if dropped:
            note += f"; {dropped} row(s) with a non-finite score left out of roc_auc and log_loss"
        try:
            scored, scored_se = measure_window(
                task,
                y[finite],
                pred[finite],
                scores[finite],
                classes=classes_of(mv),
                n_boot=n_boot,
                seed=seed,
            )
        except DataError as err:  # bad scores spoil the score metrics only
            for m in SCORE_METRICS:
                metrics[m] = math.nan
                undefined[m] = f"{SCORE_ERROR}{err}"
            return metrics, sizes, undefined, se, note
        for m in SCORE_METRICS:
            metrics[m], sizes[m] = scored.metrics[m], scored.n
            se.pop(m, None)
            if m in scored_se:
                se[m] = scored_se[m]
            undefined.pop(m, None)
            if m in scored.undefined:
                undefined[m] = scored.undefined[m]
    return metrics, sizes, undefined, se, note


def judge_metrics(
    window: dict[str, float],
    sizes: dict[str, int],
    baseline: BaselinePerformance,
    *,
    alpha: float,
    settings: PerformanceSettings,
    undefined: dict[str, str] | None = None,
    window_se: dict[str, float] | None = None,
    note: str = "",
) -> list[SignalResult]:
    """One result per metric: one-sided z-test of the drop, Holm across metrics.

    ``z = drop / sqrt(se_ref**2 + se_win**2)`` with ``se_ref`` the reference's bootstrap
    standard deviation and ``se_win`` the larger of ``se_ref * sqrt(n_ref / n_win)`` (the
    same metric's sampling error at the window's size) and ``window_se[metric]`` (the
    window's own bootstrap error, when given); ``drop`` is positive when the window is worse.
    """
    undefined, window_se = undefined or {}, window_se or {}
    names = settings.metrics or (
        REGRESSION_METRICS if baseline.task == "regression" else CLASSIFICATION_METRICS
    )
    out: dict[str, SignalResult] = {}
    judged: list[tuple[str, float, float, float, float]] = []
    for m in names:
        b, n = baseline.metrics.get(m), sizes.get(m, 0)
        if m in undefined or n == 0 or not math.isfinite(window.get(m, math.nan)):
            why = undefined.get(m, NO_LABELS)
            if why.startswith(SCORE_ERROR):
                out[m] = error(SIGNAL, m, f"{why}{note}", n=n)
            else:
                out[m] = no_data(SIGNAL, m, f"{why}{note}", n=n)
            continue
        if (
            b is None
            or m in baseline.undefined
            or not (math.isfinite(b.value) and math.isfinite(b.std))
        ):
            why = baseline.undefined.get(m, "its bootstrap spread is undefined")
            out[m] = no_data(SIGNAL, m, f"cannot judge {m}: on the baseline {why}", n=n)
            continue
        sign = 1.0 if HIGHER_IS_BETTER[m] else -1.0
        drop = sign * (b.value - window[m])
        se = math.hypot(b.std, max(b.std * math.sqrt(baseline.n / n), window_se.get(m, 0.0)))
        p = float(norm.sf(drop / se)) if se > 0 else (0.0 if drop > 0 else 1.0)
        min_effect = (
            settings.min_relative_effect * abs(b.value)
            if m in RELATIVE_EFFECT
            else settings.min_effect
        )
        judged.append((m, drop, se, p, min_effect))
    levels, rejected = holm([j[3] for j in judged], alpha)
    for (m, drop, se, p, min_effect), level, rej in zip(judged, levels, rejected, strict=True):
        b, n = baseline.metrics[m], sizes[m]
        status: Status = "ok" if not rej else "alert" if drop >= min_effect else "warning"
        sign = 1.0 if HIGHER_IS_BETTER[m] else -1.0
        out[m] = SignalResult(
            signal=SIGNAL, metric=m, value=window[m], threshold=b.value - sign * min_effect, status=status,
            p_value=p, statistic=drop / se if se > 0 else None, alpha=level, effect_size=drop,
            min_effect=min_effect, correction="holm", reference_size=baseline.n, current_size=n,
            message=(
                f"{m} {window[m]:.4g} vs {b.value:.4g} on the reference ({'worse' if drop > 0 else 'not worse'} "
                f"by {abs(drop):.4g}; pages from {min_effect:.4g}); one-sided z-test p={p:.3g} at alpha {level:.3g}{note}"
            ),
            details={
                "baseline_value": b.value, "baseline_std": b.std, "standard_error": se,
                "higher_is_better": HIGHER_IS_BETTER[m], "test": "one-sided z, bootstrap SE at both sizes",
            },
        )  # fmt: skip
    return [out[m] for m in names]


def _finite_or_none(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def evaluate(context: SignalContext, settings: PerformanceSettings) -> list[SignalResult]:
    """Realised metrics on the window's labelled rows against the baseline's (see :func:`judge_metrics`)."""
    mv = context.model_version
    names = settings.metrics or (
        REGRESSION_METRICS if mv.task == "regression" else CLASSIFICATION_METRICS
    )

    def none(why: str, n: int | None = None) -> list[SignalResult]:
        return [no_data(SIGNAL, m, why, n=n) for m in names]

    part = (context.baseline.performance or {}).get("performance")
    unjudged = (  # nothing to judge against: every result says so, labels or not
        "the baseline was built before model parts existed; rebuild it with `raiwatch baseline create`"
        if part is None
        else str(part["error"])
        if "error" in part
        else None
    )
    if context.labelled is None:
        return none(unjudged or NO_SOURCE)
    labelled = context.labelled
    n_lab = int(labelled[LABEL_COLUMN].notna().sum()) if LABEL_COLUMN in labelled else 0
    if n_lab < settings.min_labels:
        why = (
            NO_LABELS
            if n_lab == 0
            else f"only {n_lab} labelled rows; performance needs at least {settings.min_labels}"
        )
        return none(unjudged or why, n_lab)
    try:
        n_boot = (
            settings.window_bootstrap
            if unjudged is None and n_lab < settings.bootstrap_below
            else 0
        )
        window, sizes, undefined, window_se, note = _window_metrics(
            mv.task, labelled, mv, n_boot, context.baseline.plan.seed
        )
    except (RaiwatchError, ValueError) as err:
        return [
            error(SIGNAL, m, f"the window's labelled rows cannot be scored: {err}", n=n_lab)
            for m in names
        ]
    if part is None or unjudged is not None:  # the window's own metrics shown next to the reason
        unjudged = unjudged or "the baseline has no reference performance"
        return [
            no_data(SIGNAL, m, unjudged, n=sizes.get(m, n_lab)).replace(
                value=None if m in undefined else _finite_or_none(window.get(m))
            )
            for m in names
        ]
    return judge_metrics(
        window, sizes, BaselinePerformance.from_dict(part), alpha=context.alpha(SIGNAL),
        settings=settings, undefined=undefined, window_se=window_se, note=note,
    )  # fmt: skip

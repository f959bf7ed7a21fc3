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
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from monitor.errors import DataError
from monitor.profiles.labelled_metrics import (
    LabelledData,
    Task,
    compute_metrics,
    prepare_labelled,
    undefined_reasons,
)
from monitor.signals.results import SignalResult, Status

__all__ = [
    "CLASSIFICATION_METRICS",
    "HIGHER_IS_BETTER",
    "LOWER_IS_BETTER",
    "NO_LABELS",
    "REGRESSION_METRICS",
    "BaselinePerformance",
    "MetricBaseline",
    "WindowPerformance",
    "baseline_performance",
    "bootstrap_intervals",
    "check_performance",
    "performance_metrics",
    "performance_signal_results",
    "window_performance",
]

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION_METRICS = ("mae", "rmse", "r2")
LOWER_IS_BETTER = ("log_loss", "mae", "rmse")
HIGHER_IS_BETTER = {
    m: m not in LOWER_IS_BETTER for m in CLASSIFICATION_METRICS + REGRESSION_METRICS
}
NO_LABELS = "no labels have arrived for this window"


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

    Returns, for each p-value, the level it was compared with (``alpha / (k - rank)``)
    and whether it is rejected (every smaller p-value rejected too).

    >>> holm([0.004, 0.03, 0.012], 0.05)
    ([0.016666666666666666, 0.05, 0.025], [True, True, True])
    >>> holm([0.004, 0.03, 0.04], 0.01)[1]
    [True, False, False]
    """
    k = len(p_values)
    levels, rejected = [0.0] * k, [False] * k
    going = alpha > 0
    for rank, i in enumerate(np.argsort(np.asarray(p_values, dtype=float), kind="stable")):
        levels[i] = alpha / (k - rank)
        going = going and p_values[i] <= levels[i]
        rejected[i] = going
    return levels, rejected


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
        """Inverse of :meth:`to_dict`."""
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


def _judge(
    m: str, window: WindowPerformance, baseline: BaselinePerformance | None, **how: Any
) -> tuple[Status, str, float | None, float | None, dict[str, Any]]:
    value = window.metrics[m] if window.n else None
    if baseline is None:
        why = "no labelled reference data in the baseline; rebuild it with its target column"
        return "no_data", why, value, None, {}
    if window.n == 0 or m in window.undefined:
        return "no_data", window.undefined.get(m, NO_LABELS), None, None, {}
    b, higher = baseline.metrics[m], HIGHER_IS_BETTER[m]
    if m in baseline.undefined or math.isnan(b.low):
        why = baseline.undefined.get(m, "its bootstrap interval is undefined")
        return "no_data", f"cannot judge {m}: on the baseline {why}", value, None, {}
    sign = 1.0 if higher else -1.0  # direction in which the metric gets better
    if how["max_drop"] is not None:  # constant relative drop
        margin, method = how["max_drop"] * abs(b.value), f"max_drop={how['max_drop']}"
    else:  # calibrated; a smaller window has a larger sampling error
        scale = math.sqrt(baseline.n / window.n)
        bound = b.low if higher else b.high
        margin = 3 * b.std * scale if how["calibration"] == "std" else abs(b.value - bound) * scale
        method = how["calibration"]
    limit = b.value - sign * margin
    worse = sign * (window.metrics[m] - limit) < 0
    msg = f"{m} {window.metrics[m]:.4g} is {'worse' if worse else 'not worse'} than {limit:.4g}"
    details = {f"baseline_{k}": v for k, v in asdict(b).items()}
    details.update(method=method, higher_is_better=higher)
    return ("alert" if worse else "ok"), msg, value, limit, details


def performance_signal_results(
    window: WindowPerformance,
    baseline: BaselinePerformance | None,
    *,
    max_drop: float | None = None,
    calibration: Literal["interval", "std"] = "interval",
) -> list[SignalResult]:
    """One ``performance`` result per metric: ``alert`` when the window is worse than a limit.

    Parameters
    ----------
    window
        From :func:`window_performance` (``n == 0`` when no label has arrived).
    baseline
        From :func:`baseline_performance`; ``None`` when the reference data had no labels.
    max_drop
        Constant threshold: alert when the metric is worse than the baseline by more than
        this fraction of its value (``0.1`` = 10 %). Overrides ``calibration``.
    calibration
        ``interval``: the limit is the baseline's bootstrap bound; ``std``: baseline
        ``∓ 3`` bootstrap std. Both margins are widened by ``sqrt(n_baseline / n_window)``.
    """
    names = REGRESSION_METRICS if window.task == "regression" else CLASSIFICATION_METRICS
    results = []
    for m in names:
        status, msg, value, limit, details = _judge(
            m, window, baseline, max_drop=max_drop, calibration=calibration
        )
        results.append(SignalResult(
            "performance", None, m, value, limit, status, message=msg, details=details,
            reference_size=baseline.n if baseline else None, current_size=window.n,
        ))  # fmt: skip
    return results


def check_performance(
    task: Task,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    scores: ArrayLike | None,
    baseline: BaselinePerformance | None,
    *,
    classes: tuple[Any, ...] | list[Any] | None = None,
    max_drop: float | None = None,
    calibration: Literal["interval", "std"] = "interval",
) -> list[SignalResult]:
    """Window metrics judged against ``baseline``; invalid data gives one ``error`` result."""
    try:
        window = window_performance(task, y_true, y_pred, scores, classes=classes)
    except DataError as err:
        return [SignalResult("performance", None, "all", None, None, "error", message=str(err))]
    return performance_signal_results(window, baseline, max_drop=max_drop, calibration=calibration)

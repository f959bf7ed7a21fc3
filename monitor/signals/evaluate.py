"""Evaluate a window against a baseline: profile it, then run every registered signal.

``evaluate_window`` is deterministic: the same baseline, configuration and
window rows give the same results, whatever the batch boundaries. Signals run
in the order of :data:`monitor.signals.SIGNALS`, each on its share of the
monitor's false-alarm budget; nothing is fitted here (calibration lives in the
baseline).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from monitor.baseline.reference import Baseline
from monitor.errors import RaiwatchError
from monitor.profiles.dataset import DatasetProfile, build_profile
from monitor.profiles.labelled_rows import LabelledRows, PredictionTap, Taps
from monitor.segments.evaluate import SegmentRun, evaluate_segments
from monitor.segments.spec import DEFAULT_SEGMENT_BUDGET, SegmentSpec
from monitor.signals import SIGNALS
from monitor.signals.base import SignalContext, error, no_data, split_budget
from monitor.signals.results import SignalResult, worst_status
from monitor.spec.signal_config import SignalConfig
from monitor.spec.window import Window

# Signals that read the labelled rows of the window (joined by request id).
_LABEL_NEEDS = ("labels", "model")


@dataclass
class WindowReport:
    """Everything one evaluation of one window produced."""

    model: str
    version: str
    window: Window | None
    row_count: int
    results: list[SignalResult]
    duration_s: float
    profile: DatasetProfile | None = field(default=None, repr=False)
    detector_state: dict[str, Any] | None = field(default=None, repr=False)
    details: dict[str, Any] = field(default_factory=dict)
    labelled: pd.DataFrame | None = field(default=None, repr=False)
    challenger_state: dict[str, Any] | None = field(default=None, repr=False)
    predictions: pd.Series | None = field(default=None, repr=False)
    carry: dict[str, Any] = field(default_factory=dict, repr=False)  # by signal, e.g. traffic

    @property
    def start(self) -> Any:
        return None if self.window is None else self.window.start

    @property
    def end(self) -> Any:
        return None if self.window is None else self.window.end

    @property
    def status(self) -> str:
        if self.row_count == 0:
            return "no_data"
        return worst_status([r.status for r in self.results])

    def alerts(self) -> list[SignalResult]:
        return [r for r in self.results if r.status == "alert"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "window_start": self.start.isoformat() if self.start else None,
            "window_end": self.end.isoformat() if self.end else None,
            "row_count": self.row_count,
            "status": self.status,
            "duration_s": round(self.duration_s, 4),
            "details": self.details,
            "results": [r.to_dict() for r in self.results],
        }


def empty_window_results(baseline: Baseline, config: SignalConfig) -> list[SignalResult]:
    """One ``no_data`` result per enabled signal that applies and does not judge empty
    windows (the traffic signal does): the window has no rows."""
    mv = baseline.model_version
    settings = config.signal_settings()
    return [
        no_data(name, "rows", "the window has no rows", n=0)
        for name, entry in SIGNALS.items()
        if settings[name].enabled and entry.applies(mv) and not entry.judges_empty_windows
    ]


def evaluate_profile(
    baseline: Baseline,
    window: DatasetProfile,
    config: SignalConfig,
    *,
    labelled: pd.DataFrame | None = None,
    model: Any = None,
    carry: dict[str, Any] | None = None,
    span: Window | None = None,
    challenger: Any = None,
) -> list[SignalResult]:
    """Every enabled, applicable signal of the registry for an already-profiled window.

    ``carry`` holds state carried across windows (the change detectors', the
    traffic signal's); it is updated in place with the state after this window.
    A window without rows is judged only by the signals that judge empty windows;
    every other signal reports ``no_data``.
    """
    empty = window.row_count == 0
    mv = baseline.model_version
    settings = config.signal_settings()
    context = SignalContext(
        baseline=baseline, window=window, labelled=labelled, model=model, span=span,
        alphas=split_budget(config.alpha, SIGNALS, settings, mv), correction=config.correction,
        carry=carry if carry is not None else {}, challenger=challenger,
    )  # fmt: skip
    results: list[SignalResult] = []
    for name, entry in SIGNALS.items():
        if not settings[name].enabled or not entry.applies(mv):
            continue
        if empty and not entry.judges_empty_windows:
            results.append(no_data(name, "rows", "the window has no rows", n=0))
            continue
        try:
            out = entry.evaluate(context, settings[name])
        except (RaiwatchError, ValueError) as err:  # bad settings or data: an explicit error result
            out = [error(name, "evaluate", f"{name} failed: {err}")]
        except (KeyError, TypeError) as err:  # stored state this code cannot read
            out = [error(name, "evaluate", f"{name} could not read the baseline's stored state "
                         f"({type(err).__name__}: {err}); rebuild the baseline with `raiwatch baseline create`")]  # fmt: skip
        context.earlier[name] = out
        results += out
    return results


def evaluate_window(
    baseline: Baseline,
    batches: Iterable[Any],
    *,
    config: SignalConfig | None = None,
    window: Window | None = None,
    threads: int = 2,
    on_batch: Callable[[int], None] | None = None,
    labels: pd.DataFrame | None = None,
    detector_state: dict[str, Any] | None = None,
    model: Any = None,
    challenger: Any = None,
    keep_predictions: bool = False,
    segments: Sequence[SegmentSpec] = (),
    segment_budget: float = DEFAULT_SEGMENT_BUDGET,
    carry: dict[str, Any] | None = None,
) -> WindowReport:
    """Profile ``batches`` (the window's rows) and evaluate every signal.

    Parameters
    ----------
    window
        The ``[start, end)`` the rows were read for (stored with the report).
    labels
        Ground truth (``request_id``, ``label``) from the log store; rows of the window
        with a label feed the label-based signals. ``None`` means no label source
        (those signals report ``no_data``).
    detector_state
        The change detectors' state after the previous window (``report.detector_state``
        of that run), so the error stream continues across windows and restarts.
    model
        The real model, for attribution drift (loaded by the caller from ``model_uri``).
    challenger
        The challenger's side of the window
        (:class:`monitor.signals.challenger.ChallengerWindow`), for the ``challenger`` signal.
    keep_predictions
        Keep ``request id -> prediction`` of every row in ``report.predictions``
        (shadow mode's agreement rate over all requests).
    segments
        The monitor's ``segments:``: the signals also run on each segment, profiled in
        the same pass, on ``segment_budget`` of the false-alarm budget
        (:mod:`monitor.segments.evaluate`).
    carry
        State other signals carry across windows, by signal (the traffic signal's
        quiet-window count): the ``report.carry`` of the previous window.
    """
    config = config or SignalConfig()
    t0 = time.perf_counter()
    wants_labels, keep_features = label_needs(config, model)
    mv = baseline.model_version
    run = SegmentRun.plan(baseline, segments, segment_budget)
    keep_features = keep_features or run is not None  # segments cut the labelled rows by feature
    joiner = LabelledRows(mv, labels, keep_features=keep_features) if labels is not None and wants_labels else None
    predictions = PredictionTap(mv) if keep_predictions else None
    tap = Taps(joiner, predictions) if predictions is not None else joiner
    profiler = run.profiler if run is not None else None
    profile = build_profile(
        batches, baseline.window_plan(), threads=threads, what="window", on_batch=on_batch, tap=tap, segments=profiler
    )
    if challenger is not None and predictions is not None:  # the tap has seen every row now
        challenger.predictions["champion"] = predictions.series()
    report = window_report(
        baseline, profile, config, window=window, joiner=joiner, detector_state=detector_state, model=model,
        started=t0, challenger=challenger, segments=run, carry=carry,
    )  # fmt: skip
    report.predictions = predictions.series() if predictions is not None else None
    return report


def label_needs(config: SignalConfig, model: Any) -> tuple[bool, bool]:
    """Whether any enabled signal reads labelled rows, and whether they need the features."""
    settings = config.signal_settings()
    wants = any(settings[n].enabled and e.needs in _LABEL_NEEDS for n, e in SIGNALS.items())
    keep = model is not None and any(settings[n].enabled and e.needs == "model" for n, e in SIGNALS.items())
    return wants, keep


def window_report(
    baseline: Baseline,
    profile: DatasetProfile,
    config: SignalConfig,
    *,
    window: Window | None,
    joiner: LabelledRows | None,
    detector_state: dict[str, Any] | None,
    model: Any,
    started: float,
    challenger: Any = None,
    segments: SegmentRun | None = None,
    carry: dict[str, Any] | None = None,
) -> WindowReport:
    """Every signal on a profiled window (built by any engine) and its labelled rows."""
    mv = baseline.model_version
    state: dict[str, Any] = {**(carry or {}), "concept_drift": detector_state}
    if challenger is not None:
        state["challenger"] = challenger.state
    labelled = joiner.frame() if joiner is not None and profile.row_count else None
    whole = segments.whole_config(config) if segments is not None else config
    results = evaluate_profile(
        baseline, profile, whole, labelled=labelled, model=model, carry=state, span=window, challenger=challenger
    )  # fmt: skip
    if segments is not None and profile.row_count:
        results += evaluate_segments(baseline, segments, config, labelled=labelled, model=model, span=window)
    report = WindowReport(mv.name, mv.version, window, profile.row_count, results, 0.0, profile, labelled=labelled)
    report.detector_state = state.get("concept_drift") if profile.row_count else detector_state
    if challenger is not None:
        report.challenger_state = state.get("challenger") if profile.row_count else challenger.state
    # what the other signals carry to the next window (concept drift and challenger are saved apart)
    report.carry = {k: v for k, v in state.items() if k not in ("concept_drift", "challenger")}
    if profile.row_count:
        report.details["labelled_rows"] = 0 if labelled is None else len(labelled)
        report.details["alpha"] = config.alpha
        if segments is not None:
            report.details["segment_budget"] = segments.budget
            if segments.profiler is not None:
                report.details["segment_rows"] = {k: p.row_count for k, p in segments.profiler.profiles().items()}
        if joiner is not None:
            report.details.update(joiner.coverage)
    report.duration_s = time.perf_counter() - started
    return report

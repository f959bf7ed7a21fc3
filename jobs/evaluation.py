"""What a run evaluates: the :class:`WindowEvaluator` seam and the real engine behind it.

The runner only needs ``evaluate(spec, window) -> WindowOutcome``; tests and
benchmarks plug in fakes, the service plugs in :class:`EngineEvaluator`, which
profiles the window's rows from the Parquet log store with
``monitor.signals.evaluate.evaluate_window`` against the model version's stored baseline. ``RAIWATCH_EVALUATOR=module:factory`` swaps in any
factory ``(store, settings) -> WindowEvaluator``.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from jobs.windows import Window
from monitor.errors import RaiwatchError
from monitor.redaction import redact
from monitor.signals.results import SignalResult
from monitor.signals.traffic import SIGNAL as TRAFFIC
from monitor.spec.monitor import MonitorSpec
from monitor.spec.settings import Settings
from monitor.store import Store
from monitor.store.base import as_utc

log = logging.getLogger("raiwatch.evaluation")


@dataclass(frozen=True)
class WindowOutcome:
    """The results of evaluating one window."""

    status: str
    results: list[SignalResult]
    row_count: int
    details: dict[str, Any] = field(default_factory=dict)


class WindowEvaluator(Protocol):
    """Anything that evaluates a monitor over a window."""

    def evaluate(self, spec: MonitorSpec, window: Window) -> WindowOutcome:
        """Evaluate ``spec`` over ``window``; raise on unexpected failure."""
        ...


class EngineEvaluator:
    """Evaluate with ``monitor.signals.evaluate.evaluate_window`` on the store's baseline and log store.

    Parameters
    ----------
    store
        Where model versions and baselines live.
    settings
        Where the Parquet log store lives (``settings.home``).
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._models: dict[str, Any] = {}
        self._spark: dict[str, Any] = {}

    def _model(self, uri: str | None, spec: MonitorSpec) -> Any:
        """The real model (attribution drift, RAI reviews), loaded once from where the user points."""
        if uri is None or not (spec.signals.attribution_drift.enabled or spec.rai_review):
            return None
        if uri not in self._models:
            from monitor.baseline.model_loader import load_model

            self._models[uri] = load_model(uri)
        return self._models[uri]

    def evaluate(self, spec: MonitorSpec, window: Window) -> WindowOutcome:
        from monitor.baseline.reference import Baseline
        from monitor.ingest.logstore import LogStore
        from monitor.signals.evaluate import evaluate_window

        model_version = self.store.get_model_version(spec.model, spec.version)
        document, sample = self.store.load_baseline(spec.model, spec.version)
        baseline = Baseline.from_document(document, sample)
        logs = LogStore(self.settings.home)
        # The change detectors continue from the state saved after the previous window;
        # re-running a window starts again from that same checkpoint (idempotent).
        previous = self.store.load_detector_state(spec.name, detector_checkpoint(window.start))
        labels = logs.read_labels(model_version)
        challenger, challenger_details = (None, None)
        if spec.challenger is not None:
            try:
                challenger, challenger_details, labels = self._challenger(spec, logs, window, labels)
            except (RaiwatchError, ValueError, KeyError) as err:  # the champion is still monitored
                from monitor.signals.challenger import ChallengerWindow

                why = redact(f"{type(err).__name__}: {err}")
                challenger = ChallengerWindow(spec.challenger.version, spec.challenger.mode, None, error=why)
                challenger_details = {"version": spec.challenger.version, "mode": spec.challenger.mode, "error": why}
        # The traffic signal's count of windows without rows continues from the window before.
        quiet = self.store.load_state_before(spec.name, TRAFFIC, window.end)
        common: dict[str, Any] = {
            "config": spec.signals, "window": window,
            "labels": labels,
            "detector_state": None if previous is None else previous[0],
            "model": self._model(model_version.model_uri, spec),
            "carry": {} if quiet is None else {TRAFFIC: quiet[0]},
        }  # fmt: skip
        if spec.engine == "spark":
            report = self._evaluate_on_spark(spec, model_version, baseline, common)
        else:
            batches = (
                self._local_source(spec, model_version, window)
                if spec.source is not None
                else logs.scan(model_version, window.start, window.end, batch_rows=self.settings.batch_rows)
            )
            report = evaluate_window(
                baseline, batches, threads=self.settings.threads, challenger=challenger,
                keep_predictions=challenger is not None and challenger.mode == "shadow",
                segments=spec.segments, segment_budget=spec.segment_budget, **common,
            )  # fmt: skip
        if report.detector_state is not None:
            self.store.save_detector_state(
                spec.name, detector_checkpoint(window.end), report.detector_state, window.end
            )
        if report.challenger_state is not None:
            self.store.save_detector_state(
                spec.name, challenger_checkpoint(window.end), report.challenger_state, window.end
            )
        if report.carry.get(TRAFFIC) is not None:
            self.store.save_detector_state(
                spec.name, signal_checkpoint(TRAFFIC, window.end), report.carry[TRAFFIC], window.end
            )
        details = {k: v for k, v in report.to_dict().items() if k != "results"}
        if challenger_details is not None:
            details["challenger"] = challenger_details
        if spec.export_report and report.row_count and report.profile is not None:
            details["report_path"] = self._export_report(spec, baseline, report.profile, window)
        if spec.rai_review is not None and report.row_count:
            details["rai_review"] = self._rai_review(spec, model_version, baseline, logs, window)
        return WindowOutcome(
            status=str(report.status),
            results=list(report.results),
            row_count=int(report.row_count),
            details=details,
        )


    def _challenger(self, spec: MonitorSpec, logs: Any, window: Window, labels: Any) -> tuple[Any, dict[str, Any], Any]:
        """The challenger version's window: its own signals (drift, quality, performance) and
        its labelled rows and predictions for the ``challenger`` signal.

        Labels are keyed by request id: in shadow mode both versions answered the same
        requests, so the labels stored under either version serve both.
        """
        import pandas as pd

        from monitor.baseline.reference import Baseline
        from monitor.signals.challenger import ChallengerWindow
        from monitor.signals.evaluate import evaluate_window

        assert spec.challenger is not None
        version = spec.challenger.version
        mv = self.store.get_model_version(spec.model, version)
        document, sample = self.store.load_baseline(spec.model, version)
        baseline = Baseline.from_document(document, sample)
        both = pd.concat([f for f in (labels, logs.read_labels(mv)) if len(f)] or [labels], ignore_index=True)
        both = both.drop_duplicates("request_id", keep="last").reset_index(drop=True)
        off = {"enabled": False}
        config = spec.signals.model_copy(update={
            "challenger": spec.signals.challenger.model_copy(update=off),
            "concept_drift": spec.signals.concept_drift.model_copy(update=off),
            "attribution_drift": spec.signals.attribution_drift.model_copy(update=off),
        })  # fmt: skip
        shadow = spec.challenger.mode == "shadow"
        report = evaluate_window(
            baseline, logs.scan(mv, window.start, window.end, batch_rows=self.settings.batch_rows),
            config=config, window=window, labels=both, threads=self.settings.threads, keep_predictions=shadow,
        )  # fmt: skip
        previous = self.store.load_detector_state(spec.name, challenger_checkpoint(window.start))
        side = ChallengerWindow(
            version=version, mode=spec.challenger.mode, labelled=report.labelled, row_count=report.row_count,
            state=None if previous is None else previous[0],
        )  # fmt: skip
        if shadow and report.predictions is not None:
            side.predictions["challenger"] = report.predictions
        summary = {
            "version": version, "mode": spec.challenger.mode, "row_count": report.row_count,
            "status": str(report.status), "labelled_rows": report.details.get("labelled_rows", 0),
            "results": [r.to_dict() for r in report.results],
        }  # fmt: skip
        return side, summary, both

    def _local_source(self, spec: MonitorSpec, mv: Any, window: Window) -> Any:
        """The window's rows from a local ``source:`` path (Parquet/CSV/JSONL file or Delta directory)."""
        from monitor.errors import DataError
        from monitor.ingest.delta import is_delta_table
        from monitor.ingest.sources import iter_batches
        from monitor.ingest.time_filter import in_window

        assert spec.source is not None and spec.source.path is not None
        path = spec.source.path
        if spec.source.format == "delta" and not is_delta_table(path):
            raise DataError(
                f"source {path!r} is not a local Delta table directory (no _delta_log/ in it); "
                "the local engine reads local paths, a remote table needs 'engine: spark'"
            )
        time_column = spec.source.time_column or mv.timestamp_column
        batches = iter_batches(path, batch_rows=self.settings.batch_rows)
        return (in_window(b, time_column, window.start, window.end) for b in batches)

    def _evaluate_on_spark(self, spec: MonitorSpec, mv: Any, baseline: Any, common: dict[str, Any]) -> Any:
        """The window profiled on Spark (``engine: spark``): the monitor's ``source`` or the log store."""
        from jobs.spark_jobs import log_store_source, spark_engine
        from monitor.engines.spark_window import evaluate_on_spark
        from monitor.spec.engine import SparkSettings

        settings = spec.spark or SparkSettings()
        key = settings.model_dump_json()
        if key not in self._spark:  # one session per Spark configuration, kept across runs
            self._spark[key] = spark_engine(settings)
        source = spec.source or log_store_source(self.settings.log_dir, mv)
        time_column = source.time_column or mv.timestamp_column
        return evaluate_on_spark(self._spark[key], baseline, source, time_column=time_column, **common)

    def _export_report(self, spec: MonitorSpec, baseline: Any, profile: Any, window: Window) -> str | None:
        """The window as an Evidently HTML report (from the reservoir samples), for the dashboard."""
        from monitor.signals.evidently_report import export_evidently_report

        path = self.settings.report_dir / spec.name / f"{as_utc(window.start):%Y%m%dT%H%M%S}.html"
        try:
            export_evidently_report(baseline, profile, html_path=path)
        except Exception:  # a report is a convenience: never fail the run for it
            log.exception("monitor %s: exporting the Evidently report failed", spec.name)
            return None
        return str(path)

    def _rai_review(
        self, spec: MonitorSpec, mv: Any, baseline: Any, logs: Any, window: Window
    ) -> dict[str, Any]:
        """Build the window's RAI bundle; a failure is recorded, never fails the run."""
        from jobs.rai_job import review_window

        assert spec.rai_review is not None
        out = self.settings.bundle_dir / spec.name / as_utc(window.end).strftime("%Y%m%dT%H%M%SZ")
        try:
            model = self._model(mv.model_uri, spec)
            return review_window(
                mv, baseline, logs, window.start, window.end, spec.rai_review, model, out
            )
        except Exception as err:  # the user's model or data may raise anything
            return {"status": "failed", "error": f"{type(err).__name__}: {err}"}


def detector_checkpoint(at: datetime) -> str:
    """Key of the change detectors' state after the window ending at ``at``."""
    return signal_checkpoint("concept_drift", at)


def signal_checkpoint(signal: str, at: datetime) -> str:
    """Key of a signal's carried state after the window ending at ``at``."""
    return f"{signal}@{as_utc(at).isoformat()}"


def challenger_checkpoint(at: datetime) -> str:
    """Key of the champion/challenger comparison's state after the window ending at ``at``."""
    return signal_checkpoint("challenger", at)


def load_evaluator(spec: str, store: Store, settings: Settings) -> WindowEvaluator:
    """Build the evaluator named ``module:factory`` (``factory(store, settings)``)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(
            f"evaluator {spec!r} must be 'module:factory', e.g. 'jobs.evaluation:EngineEvaluator'"
        )
    factory = getattr(importlib.import_module(module_name), attr)
    evaluator: WindowEvaluator = factory(store, settings)
    return evaluator

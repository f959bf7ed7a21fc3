"""Prometheus text exposition of the service's state.

Label sets are stable: a series is identified by what it measures (monitor,
model, version, signal, feature, metric), never by its state, so a status
change moves a value instead of starting a new series. Signal gauges come from
each monitor's latest window *with data*: a window without rows leaves them in
place (its age is ``time() - raiwatch_last_data_window_end_timestamp_seconds``).
Counters of ingested rows live in the process (:class:`IngestCounters`).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from monitor.store import Store

#: ``raiwatch_*_status_code`` values (severity order).
STATUS_CODES: dict[str, int] = {"no_data": -1, "ok": 0, "warning": 1, "alert": 2, "error": 3}
DELIVERY_STATUSES = ("pending", "sending", "delivered", "dead")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str | None) -> str:
    """Every label, always (``""`` for a missing value): one label set per metric family."""
    inner = ",".join(f'{k}="{_escape(v or "")}"' for k, v in labels.items())
    return "{" + inner + "}" if inner else ""


def _segment_series(out: list[str], family: Any, runs: list[Any], codes: str) -> None:
    """Results judged on a segment (``segments:`` of a monitor), with a ``segment`` label."""
    family("raiwatch_segment_signal_value", "gauge", "Value of each segment result in the latest window with data.")
    family("raiwatch_segment_signal_status_code", "gauge", f"Status of each segment result ({codes}).")
    for run in runs:
        for r in run.results:
            if r.segment is None:
                continue
            labels = _labels(monitor=run.monitor, model=run.model_name, version=run.model_version,
                             segment=r.segment, signal=r.signal, feature=r.feature, metric=r.metric)  # fmt: skip
            value = r.to_dict()["value"]
            if value is not None:
                out.append(f"raiwatch_segment_signal_value{labels} {value}")
            out.append(f"raiwatch_segment_signal_status_code{labels} {STATUS_CODES[r.status]}")


class IngestCounters:
    """Thread-safe counters of ingested and rejected rows per model version."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rows: dict[tuple[str, str, str], int] = defaultdict(int)
        self.rejected_batches: dict[tuple[str, str, str], int] = defaultdict(int)

    def add(self, model: str, version: str, kind: str, rows: int) -> None:
        with self._lock:
            self.rows[(model, version, kind)] += rows

    def reject(self, model: str, version: str, kind: str) -> None:
        with self._lock:
            self.rejected_batches[(model, version, kind)] += 1


def render_metrics(store: Store, counters: IngestCounters) -> str:
    """The ``/metrics`` body (Prometheus text format 0.0.4)."""
    out: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")

    with_data = store.latest_runs(with_data=True)
    newest = {r.monitor: r for r in store.latest_runs()}
    codes = ", ".join(f"{c} {s}" for s, c in STATUS_CODES.items())
    family(
        "raiwatch_signal_value",
        "gauge",
        "Value of each signal result in the latest window with data.",
    )
    family(
        "raiwatch_signal_threshold",
        "gauge",
        "Threshold of each signal result in the latest window with data.",
    )
    family("raiwatch_signal_status_code", "gauge", f"Status of each signal result ({codes}).")
    for run in with_data:
        for r in run.results:
            if r.segment is not None:  # segment results: their own families, below
                continue
            labels = _labels(monitor=run.monitor, model=run.model_name, version=run.model_version,
                             signal=r.signal, feature=r.feature, metric=r.metric)  # fmt: skip
            d = r.to_dict()
            if d["value"] is not None:
                out.append(f"raiwatch_signal_value{labels} {d['value']}")
            if d["threshold"] is not None:
                out.append(f"raiwatch_signal_threshold{labels} {d['threshold']}")
            out.append(f"raiwatch_signal_status_code{labels} {STATUS_CODES[r.status]}")
    _segment_series(out, family, with_data, codes)
    family("raiwatch_run_status_code", "gauge", f"Status of the latest run with data ({codes}).")
    family("raiwatch_run_duration_seconds", "gauge", "Duration of the latest run with data.")
    family("raiwatch_run_rows", "gauge", "Rows in the latest window with data.")
    family(
        "raiwatch_last_data_window_end_timestamp_seconds",
        "gauge",
        "End of the latest window with data.",
    )
    for run in with_data:
        labels = _labels(monitor=run.monitor, model=run.model_name, version=run.model_version)
        out.append(f"raiwatch_run_status_code{labels} {STATUS_CODES[run.status]}")
        out.append(f"raiwatch_run_duration_seconds{labels} {run.duration_s}")
        out.append(f"raiwatch_run_rows{labels} {run.row_count}")
        out.append(
            f"raiwatch_last_data_window_end_timestamp_seconds{labels} {run.window_end.timestamp()}"
        )
    family(
        "raiwatch_last_run_window_end_timestamp_seconds",
        "gauge",
        "End of the latest evaluated window (with or without rows).",
    )
    family("raiwatch_empty_windows", "gauge", "1 when the latest evaluated window had no rows.")
    for run in newest.values():
        labels = _labels(monitor=run.monitor, model=run.model_name, version=run.model_version)
        out.append(
            f"raiwatch_last_run_window_end_timestamp_seconds{labels} {run.window_end.timestamp()}"
        )
        out.append(f"raiwatch_empty_windows{labels} {int(run.status == 'no_data')}")
    handling = {(h.monitor, h.signal): h for h in store.list_alert_handling()}
    family("raiwatch_alert_firing", "gauge", "1 when the (monitor, signal) alert is firing.")
    family("raiwatch_alert_acknowledged", "gauge", "1 when a firing alert was acknowledged.")
    family("raiwatch_alert_silenced", "gauge", "1 while the alert is silenced.")
    for state in store.list_alert_states():
        labels = _labels(monitor=state.monitor, signal=state.signal)
        h = handling.get((state.monitor, state.signal))
        out.append(f"raiwatch_alert_firing{labels} {int(state.state == 'firing')}")
        out.append(f"raiwatch_alert_acknowledged{labels} {int(bool(h and h.acknowledged))}")
        out.append(f"raiwatch_alert_silenced{labels} {int(bool(h and h.silenced))}")
    family("raiwatch_webhook_deliveries", "gauge", "Webhook deliveries per status.")
    counts = store.delivery_counts()
    for status in DELIVERY_STATUSES:  # every status, always: no series appears or vanishes
        out.append(f"raiwatch_webhook_deliveries{_labels(status=status)} {counts.get(status, 0)}")
    family("raiwatch_ingested_rows_total", "counter", "Rows stored through the HTTP API.")
    for (model, version, kind), n in sorted(counters.rows.items()):
        out.append(
            f"raiwatch_ingested_rows_total{_labels(model=model, version=version, kind=kind)} {n}"
        )
    family("raiwatch_rejected_batches_total", "counter", "Batches rejected by validation.")
    for (model, version, kind), n in sorted(counters.rejected_batches.items()):
        labels = _labels(model=model, version=version, kind=kind)
        out.append(f"raiwatch_rejected_batches_total{labels} {n}")
    return "\n".join(out) + "\n"

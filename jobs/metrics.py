"""Prometheus text exposition of the service's state.

Gauges are read from the store at scrape time (latest signal values and run
durations per monitor, alert states, deliveries per status); counters of
ingested rows live in the process (:class:`IngestCounters`).
"""

from __future__ import annotations

import threading
from collections import defaultdict

from monitor.store import Store


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str | None) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items() if v is not None)
    return "{" + inner + "}" if inner else ""


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

    family("raiwatch_signal_value", "gauge", "Latest value of each signal result per monitor.")
    family("raiwatch_signal_threshold", "gauge", "Threshold of each latest signal result.")
    runs = store.latest_runs()
    for run in runs:
        for r in run.results:
            labels = _labels(monitor=run.monitor, model=run.model_name, version=run.model_version,
                             signal=r.signal, feature=r.feature, metric=r.metric, status=r.status)  # fmt: skip
            d = r.to_dict()
            if d["value"] is not None:
                out.append(f"raiwatch_signal_value{labels} {d['value']}")
            if d["threshold"] is not None:
                out.append(f"raiwatch_signal_threshold{labels} {d['threshold']}")
    family("raiwatch_run_duration_seconds", "gauge", "Duration of the latest run per monitor.")
    family("raiwatch_run_window_end_timestamp_seconds", "gauge", "End of the latest run's window.")
    family("raiwatch_run_rows", "gauge", "Rows in the latest run's window.")
    for run in runs:
        labels = _labels(monitor=run.monitor, status=run.status)
        out.append(f"raiwatch_run_duration_seconds{labels} {run.duration_s}")
        out.append(
            f"raiwatch_run_window_end_timestamp_seconds{labels} {run.window_end.timestamp()}"
        )
        out.append(f"raiwatch_run_rows{labels} {run.row_count}")
    family("raiwatch_alert_firing", "gauge", "1 when the (monitor, signal) alert is firing.")
    for state in store.list_alert_states():
        labels = _labels(monitor=state.monitor, signal=state.signal, state=state.state)
        out.append(f"raiwatch_alert_firing{labels} {int(state.state == 'firing')}")
    family("raiwatch_webhook_deliveries", "gauge", "Webhook deliveries per status.")
    for status, count in store.delivery_counts().items():
        out.append(f"raiwatch_webhook_deliveries{_labels(status=status)} {count}")
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

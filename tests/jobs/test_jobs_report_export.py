"""A monitor with ``export_report: true`` writes each window's Evidently report for the dashboard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from dashboards.views.model_runs import report_path
from jobs.windows import Window
from monitor.spec.monitor import parse_monitor_spec
from tests.jobs.test_jobs_rai_review import START, _world


def test_the_window_report_is_written_and_found_by_the_dashboard(tmp_path: Path) -> None:
    evaluator, _ = _world(tmp_path, 0.5)
    spec = parse_monitor_spec({
        "name": "credit-daily", "model": "credit", "version": "1", "window": "1d",
        "export_report": True, "signals": {"multivariate_drift": {"enabled": False}},
    })  # fmt: skip
    window = Window(START, START + dt.timedelta(days=1))
    outcome = evaluator.evaluate(spec, window)  # type: ignore[attr-defined]
    path = Path(outcome.details["report_path"])
    assert path == tmp_path / "reports" / "credit-daily" / "20261001T000000.html"
    html = path.read_text()
    assert "income" in html and "purpose" in html  # Evidently's drift table names the features
    run = pd.Series({"id": 1, "details": outcome.details, "window_start": pd.Timestamp(START)})
    assert report_path(tmp_path / "reports", "credit-daily", run) == path


def test_without_the_flag_no_report_is_written(tmp_path: Path) -> None:
    evaluator, _ = _world(tmp_path, 0.5)
    spec = parse_monitor_spec({"name": "credit-daily", "model": "credit", "version": "1", "window": "1d"})
    outcome = evaluator.evaluate(spec, Window(START, START + dt.timedelta(days=1)))  # type: ignore[attr-defined]
    assert "report_path" not in outcome.details
    assert not (tmp_path / "reports").exists()

"""The ``raiwatch`` command line end to end: register, baseline, ingest, run, export.

Data: a 300-row reference; a clean day (2026-02-01) and a day where ``income``
moved by 1.5 standard deviations (2026-02-02).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp, mannwhitneyu, wasserstein_distance
from typer.testing import CliRunner, Result

from jobs.cli import app
from monitor.errors import DataError, NotFoundError, SchemaError
from monitor.signals import SIGNALS

MODEL_YAML = """\
name: credit
version: '1'
task: binary
features:
  income: numeric
  purpose: categorical
scores: [score]
"""
RAIWATCH = Path(sys.executable).with_name("raiwatch")


def make(n: int, seed: int, *, shift: bool, start: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "request_id": [f"{seed}-{i}" for i in range(n)],
            "timestamp": pd.date_range(start, periods=n, freq="min", tz="UTC"),
            "income": rng.normal(50 + (15 if shift else 0), 10, n),
            "purpose": rng.choice(["car", "house"], n),
            "prediction": rng.choice(["0", "1"], n),
            "score": rng.random(n),
        }
    )


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith("RAIWATCH_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no ./raiwatch.yaml is picked up
    monkeypatch.setenv("COLUMNS", "200")


def invoke(*args: str, home: Path) -> Result:
    return CliRunner().invoke(app, [*args, "--home", str(home)])


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli-data")
    (d / "model.yaml").write_text(MODEL_YAML)
    make(300, 0, shift=False, start="2026-01-01").to_csv(d / "ref.csv", index=False)
    make(120, 1, shift=False, start="2026-02-01").to_csv(d / "clean.csv", index=False)
    make(120, 2, shift=True, start="2026-02-02").to_csv(d / "drift.csv", index=False)
    return {p.stem: p for p in d.iterdir()}


@pytest.fixture
def home(tmp_path: Path, data: dict[str, Path]) -> Path:
    """A home with the model registered, a baseline and both days of logs."""
    h = tmp_path / "home"
    steps = [
        ("model", "register", "-f", str(data["model"])),
        ("baseline", "create", "--data", str(data["ref"]), "-m", "credit", "-v", "1"),
        ("logs", "ingest", str(data["clean"]), str(data["drift"]), "-m", "credit", "-v", "1"),
    ]
    for step in steps:
        result = invoke(*step, home=h)
        assert result.exit_code == 0, (step, result.output, result.exception)
    return h


def run_day(home: Path, day: str, *extra: str) -> Result:
    start = pd.Timestamp(day)
    end = start + pd.Timedelta(days=1)
    return invoke("monitor", "run", "-m", "credit", "-v", "1", "--start", start.date().isoformat(),
                  "--end", end.date().isoformat(), *extra, home=home)  # fmt: skip


def test_register_baseline_and_ingest_report_what_they_did(
    tmp_path: Path, data: dict[str, Path]
) -> None:
    h = tmp_path / "h"
    out = invoke("model", "register", "-f", str(data["model"]), home=h).output
    assert "registered model version credit:1 (binary, 2 features)" in out
    out = invoke(
        "baseline", "create", "--data", str(data["ref"]), "-m", "credit", "-v", "1", home=h
    ).output
    assert (
        "baseline #1 for credit:1: 300 rows, 4 columns, 300 sampled rows"
        in out
    )
    bad = make(4, 9, shift=False, start="2026-02-03").assign(extra=1)
    bad.loc[0, "prediction"] = None
    bad.to_csv(tmp_path / "bad.csv", index=False)
    out = invoke(
        "logs", "ingest", str(tmp_path / "bad.csv"), "-m", "credit", "-v", "1", home=h
    ).output
    assert "accepted 3, quarantined 1, ignored columns ['extra']" in out
    assert "quarantined 1 × missing_prediction" in out
    assert (h / "raiwatch.db").is_file()
    assert (
        len(list((h / "logs" / "model=credit" / "version=1").glob("date=2026-02-03/*.parquet")))
        == 1
    )


def test_monitor_run_on_clean_data_passes(home: Path, tmp_path: Path) -> None:
    out_json = tmp_path / "out" / "clean.json"
    result = run_day(home, "2026-02-01", "--json", str(out_json), "--fail-on", "alert")
    assert result.exit_code == 0, result.output
    report = json.loads(out_json.read_text())
    assert (report["model"], report["version"], report["row_count"], report["status"]) == (
        "credit",
        "1",
        120,
        "ok",
    )
    assert report["window_start"] == "2026-02-01T00:00:00+00:00"
    assert report["window_end"] == "2026-02-02T00:00:00+00:00"
    data_signals = {"data_drift", "dataset_drift", "prediction_drift", "data_quality"}
    assert {r["status"] for r in report["results"] if r["signal"] in data_signals} == {"ok"}
    traffic = [(r["status"], r["value"]) for r in report["results"] if r["signal"] == "traffic"]
    assert traffic == [("ok", 0.0)]  # rows arrived
    # No target is declared: the label-based signals say why they cannot run.
    assert {r["status"] for r in report["results"] if r["signal"] not in {*data_signals, "traffic"}} <= {
        "no_data"
    }


def test_monitor_run_on_drifted_data_fails_with_exit_code_1(
    home: Path, tmp_path: Path, data: dict[str, Path]
) -> None:
    out_json = tmp_path / "drift.json"
    result = run_day(home, "2026-02-02", "--json", str(out_json), "--fail-on", "alert")
    assert result.exit_code == 1, result.output
    report = json.loads(out_json.read_text())
    assert report["status"] == "alert" and report["row_count"] == 120
    got = {(r["signal"], r["feature"]): r for r in report["results"]}
    income = got[("data_drift", "income")]
    ref, cur = pd.read_csv(data["ref"]), pd.read_csv(data["drift"])
    assert income["metric"] == "wasserstein" and income["status"] == "alert"
    # the effect: W1 in reference standard deviations (binned on the baseline's quantile bins)
    expected = wasserstein_distance(ref["income"], cur["income"]) / np.std(ref["income"])
    assert income["value"] == pytest.approx(expected, abs=0.03) and expected > 1.0
    # the p-value: every row fits the samples, so KS is scipy's exact ks_2samp (300 x 120
    # pairs), with the rank-sum test on the values, Bonferroni over the two
    details = income["details"]
    assert details["computed_from"] == "exact"
    assert details["p_ks"] == pytest.approx(
        ks_2samp(ref["income"], cur["income"], method="exact").pvalue, rel=1e-9
    )
    assert details["p_location"] == pytest.approx(
        mannwhitneyu(
            ref["income"], cur["income"], method="asymptotic", use_continuity=False
        ).pvalue,
        rel=1e-9,
    )
    assert income["p_value"] == pytest.approx(
        min(1.0, 2 * min(details["p_location"], details["p_ks"])), rel=1e-12
    )
    assert income["p_value"] < income["alpha"] and income["correction"] == "holm"
    assert got[("data_drift", "purpose")]["status"] == "ok"
    assert got[("dataset_drift", None)]["value"] == 0.5
    assert "alert" in result.output
    # without --fail-on the run itself succeeds
    assert run_day(home, "2026-02-02").exit_code == 0


def test_file_mode_equals_the_log_store_window(
    home: Path, tmp_path: Path, data: dict[str, Path]
) -> None:
    store_json, file_json = tmp_path / "store.json", tmp_path / "file.json"
    assert run_day(home, "2026-02-02", "--json", str(store_json)).exit_code == 0
    result = invoke("monitor", "run", "-m", "credit", "-v", "1", "--file", str(data["drift"]),
                    "--json", str(file_json), "--fail-on", "alert", home=home)  # fmt: skip
    assert result.exit_code == 1, result.output
    from_store, from_file = json.loads(store_json.read_text()), json.loads(file_json.read_text())
    assert from_file["window_start"] is None and from_file["row_count"] == 120
    # the traffic result also says when the window's traffic ended, which a file has not
    def judged(results: list[dict]) -> list[dict]:
        return [{**r, "details": {}} if r["signal"] == "traffic" else r for r in results]

    assert judged(from_file["results"]) == judged(from_store["results"])
    assert [r["details"]["last_traffic_end"] for r in from_store["results"] if r["signal"] == "traffic"] == [
        "2026-02-03T00:00:00+00:00"
    ]


def test_signal_config_file(home: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "signals.yaml"
    off = "".join(
        f"  {name}: {{enabled: false}}\n"
        for name in SIGNALS
        if name not in ("data_drift", "dataset_drift")
    )
    cfg.write_text(
        "signals:\n  alpha: 0.02\n  correction: benjamini-hochberg\n"
        "  data_drift:\n    methods: {income: psi}\n    min_effect: {purpose: 0.5}\n" + off
    )
    out = tmp_path / "w.json"
    assert run_day(home, "2026-02-02", "--config", str(cfg), "--json", str(out)).exit_code == 0
    report = json.loads(out.read_text())
    results = report["results"]
    assert {r["signal"] for r in results} == {"data_drift", "dataset_drift"}
    income = next(r for r in results if r["feature"] == "income")
    purpose = next(r for r in results if r["feature"] == "purpose")
    assert (income["metric"], income["correction"]) == ("psi", "benjamini-hochberg")
    assert purpose["min_effect"] == 0.5
    # data drift is the only signal that can page: it has the whole budget
    assert report["details"]["alpha"] == 0.02
    assert max(r["alpha"] for r in results if r["signal"] == "data_drift") <= 0.02


def test_usage_errors_raise_schema_errors(home: Path, tmp_path: Path) -> None:
    result = invoke("monitor", "run", "-m", "credit", "-v", "1", home=home)
    assert isinstance(result.exception, SchemaError)
    assert (
        str(result.exception) == "monitor run needs --start and --end for the log store, or --file"
    )
    result = run_day(home, "2026-02-01", "--fail-on", "sometimes")
    assert str(result.exception) == "--fail-on must be 'alert' or 'warning', got 'sometimes'"
    result = invoke(
        "monitor",
        "run",
        "-m",
        "credit",
        "-v",
        "1",
        "--start",
        "yesterday",
        "--end",
        "2026-02-02",
        home=home,
    )
    assert "--start 'yesterday' is not an ISO date or datetime" in str(result.exception)
    bad_cfg = tmp_path / "bad.yaml"
    bad_cfg.write_text("signals:\n  data_drift:\n    methods: {income: kolmogorov}\n")
    result = run_day(home, "2026-02-01", "--config", str(bad_cfg))
    assert isinstance(result.exception, SchemaError)
    assert "method 'kolmogorov' for 'income' is unknown; available: ks" in str(result.exception)
    old_cfg = tmp_path / "old.yaml"
    old_cfg.write_text(
        "signals:\n  data_drift:\n    thresholds: {wasserstein: {type: std, k: 3}}\n"
    )
    result = run_day(home, "2026-02-01", "--config", str(old_cfg))
    assert isinstance(result.exception, SchemaError)
    assert "signals.data_drift.thresholds is no longer supported" in str(result.exception)
    assert "set `alpha`" in str(result.exception)
    result = invoke("monitor", "run", "-m", "credit", "-v", "9", "--file", "x.csv", home=home)
    assert isinstance(result.exception, NotFoundError)
    assert "model version credit:9 is not registered" in str(result.exception)


def test_missing_or_broken_inputs_are_clear_errors(home: Path, tmp_path: Path) -> None:
    result = run_day(home, "2026-02-01", "--config", str(tmp_path / "nope.yaml"))
    assert isinstance(result.exception, SchemaError)
    assert (
        str(result.exception)
        == f"signals file '{tmp_path / 'nope.yaml'}' does not exist; check the path"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("signals: [unclosed\n")
    result = run_day(home, "2026-02-01", "--config", str(broken))
    assert isinstance(result.exception, SchemaError)
    assert str(result.exception).startswith(f"signals file '{broken}' is not valid YAML")
    result = invoke(
        "baseline",
        "create",
        "--data",
        str(tmp_path / "nope.csv"),
        "-m",
        "credit",
        "-v",
        "1",
        home=home,
    )
    assert isinstance(result.exception, DataError)
    assert (
        str(result.exception)
        == f"input file '{tmp_path / 'nope.csv'}' does not exist; check the path"
    )


def test_a_window_without_logs_is_no_data_and_does_not_fail(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty.json"
    result = run_day(home, "2026-03-01", "--json", str(out), "--fail-on", "alert")
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert (report["row_count"], report["status"]) == (0, "no_data")
    assert {r["status"] for r in report["results"] if r["signal"] != "traffic"} == {"no_data"}
    # one window without rows (a one-off run carries no history): the traffic signal warns
    assert [(r["status"], r["value"]) for r in report["results"] if r["signal"] == "traffic"] == [("warning", 1.0)]
    assert "status=no_data" in result.output


@pytest.mark.slow
def test_bad_yaml_exits_2_with_the_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MODEL_YAML.replace("task: binary", "task: classification"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAIWATCH_")} | {
        "COLUMNS": "300"
    }
    proc = subprocess.run(
        [str(RAIWATCH), "model", "register", "-f", str(bad), "--home", str(tmp_path / "h")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    message = " ".join(proc.stderr.split())
    assert f"error: invalid model version in {bad}:" in message
    assert (
        "task: got 'classification'; use one of 'binary', 'multiclass' or 'regression'" in message
    )
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_evidently_export_names_the_drifted_column(home: Path, tmp_path: Path) -> None:
    html, js = tmp_path / "ev" / "report.html", tmp_path / "ev" / "report.json"
    result = run_day(home, "2026-02-02", "--evidently-html", str(html), "--evidently-json", str(js))
    assert result.exit_code == 0, (result.output, result.exception)
    assert html.is_file() and html.stat().st_size > 10_000
    assert "<html" in html.read_text()[:2000].lower()
    metrics = {m["metric_name"]: m for m in json.loads(js.read_text())["metrics"]}
    drift = {name: m for name, m in metrics.items() if name.startswith("ValueDrift(")}
    income = next(m for name, m in drift.items() if "column=income" in name)
    purpose = next(m for name, m in drift.items() if "column=purpose" in name)
    assert income["value"] < 0.05 < purpose["value"]  # p-values: income drifted, purpose not
    count = next(m for name, m in metrics.items() if name.startswith("DriftedColumnsCount"))
    assert count["value"] == {"count": 1.0, "share": 0.5}

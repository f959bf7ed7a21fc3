"""``retrain_every`` and ``challenger:`` in monitor YAML: each bad-input class is a clear
error, a good spec round-trips through the store, and ``raiwatch monitor promote`` works
from the command line (and says what to do when it cannot)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from jobs.cli import app
from monitor.errors import ConflictError, NotFoundError, SchemaError
from monitor.signals.results import SignalResult
from monitor.spec.model_version import ModelVersion
from monitor.spec.monitor import MonitorSpec, load_monitor_spec, parse_monitor_spec
from monitor.store import AlertPolicy, Store

BASE: dict[str, Any] = {"name": "m", "model": "credit", "version": "1", "window": "1d"}


def test_a_lifecycle_spec_round_trips_and_switches_the_signal_on(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text('name: m\nmodel: credit\nversion: 1\nwindow: 1d\nretrain_every: 30d\n'
                    'retrain_on: [performance]\nchallenger: {version: 2, mode: split}\n')  # fmt: skip
    spec = load_monitor_spec(path)
    assert spec.retrain_every == timedelta(days=30) and spec.challenger is not None
    assert (spec.challenger.version, spec.challenger.mode) == ("2", "split")
    assert spec.signals.challenger.enabled
    assert MonitorSpec.from_stored(spec.stored_dict()) == spec
    assert not parse_monitor_spec(BASE).signals.challenger.enabled  # off without a challenger


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"retrain_every": "monthly"}, r"retrain_every: .*'monthly' is not a duration; write e.g."),
        ({"retrain_every": "1h"}, r"retrain_every \(1:00:00\) is shorter than the window"),
        ({"challenger": {"version": "1"}}, r"challenger.version '1' is the monitor's own version"),
        ({"challenger": {"version": "2", "mode": "canary"}}, r"challenger.mode: .*'shadow' or 'split'"),
        ({"challenger": {"mode": "shadow"}}, r"challenger.version: required field is missing"),
        ({"challenger": {"version": " "}}, r"give the challenger's model version"),
        ({"challenger": {"version": "2", "share": 0.1}}, r"challenger.share"),
        ({"challenger": {"version": "2"}, "engine": "spark"}, r"'challenger' runs on the local engine"),
        ({"challenger": {"version": "2"}, "source": {"path": "/data/preds.parquet"}}, r"remove 'source'"),
        ({"signals": {"challenger": {"enabled": True}}}, r"declares no 'challenger:'; add"),
        ({"signals": {"challenger": {"max_looks": 0}}}, r"signals.challenger.max_looks"),
    ],
)
def test_bad_lifecycle_input_is_a_clear_error(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        parse_monitor_spec({**BASE, **extra})


def test_monitor_promote_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAIWATCH_HOME", str(tmp_path))
    monkeypatch.delenv("RAIWATCH_DATABASE_URL", raising=False)
    store = Store(f"sqlite:///{tmp_path / 'raiwatch.db'}")
    store.migrate()
    for version in ("1", "2"):
        store.register_model_version(ModelVersion.model_validate(
            {"name": "credit", "version": version, "task": "binary", "features": {"age": "numeric"}}))  # fmt: skip
    spec = parse_monitor_spec({**BASE, "challenger": {"version": "2"}})
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    store.upsert_monitor("m", "credit", "1", spec.stored_dict(), start_at=t0)
    cli = CliRunner()
    listed = cli.invoke(app, ["monitor", "list", "--format", "json"])
    assert '"challenger": "2 (shadow)"' in listed.output and '"retrain_due": null' in listed.output
    out = cli.invoke(app, ["monitor", "promote", "m"])
    assert isinstance(out.exception, NotFoundError)  # no baseline for credit:2 yet
    assert "cannot promote credit:2: model version credit:2 has no baseline" in str(out.exception)
    store.save_baseline("credit", "2", {"schema_version": 1}, b"")
    out = cli.invoke(app, ["monitor", "promote", "m"])
    assert isinstance(out.exception, ConflictError)
    assert "not judged yet" in str(out.exception) and "--force" in str(out.exception)
    verdict = SignalResult(signal="challenger", metric="accuracy_difference", value=0.04, status="warning",
                           details={"verdict": "better", "previous_verdict": "undecided"})  # fmt: skip
    store.save_run("m", "credit", "1", t0, t0 + timedelta(days=1), "warning", [verdict], 10, 0.1, {},
                   policy=AlertPolicy())  # fmt: skip
    out = cli.invoke(app, ["monitor", "promote", "m"])
    assert out.exit_code == 0, out.output
    assert "version 2 is now the champion (was 1)" in out.output
    assert store.get_monitor("m").model_version == "2"
    assert store.list_promotions("m")[0].evidence["result"]["details"]["verdict"] == "better"
    store.dispose()


def _add_with_challenger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str, task: str, *, versions: tuple[str, ...]
) -> tuple[Store, Any]:
    """Register ``versions`` of ``model`` and run ``monitor add`` for version 1 with challenger 2."""
    monkeypatch.setenv("RAIWATCH_HOME", str(tmp_path))
    monkeypatch.delenv("RAIWATCH_DATABASE_URL", raising=False)
    store = Store(f"sqlite:///{tmp_path / 'raiwatch.db'}")
    store.migrate()
    for version in versions:
        store.register_model_version(ModelVersion.model_validate(
            {"name": model, "version": version, "task": task, "features": {"age": "numeric"}}))  # fmt: skip
    path = tmp_path / "m.yaml"
    path.write_text(f"name: m\nmodel: {model}\nversion: 1\nchallenger: {{version: 2}}\n")
    return store, CliRunner().invoke(app, ["monitor", "add", "-f", str(path)])


def test_monitor_add_checks_the_challenger_is_registered_with_a_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, out = _add_with_challenger(tmp_path, monkeypatch, "credit", "binary", versions=("1",))
    assert isinstance(out.exception, NotFoundError) and "credit" in str(out.exception)
    assert "2" in str(out.exception) and store.list_monitors() == []  # nothing stored
    store.dispose()


def test_monitor_add_refuses_a_challenger_for_a_regression_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, out = _add_with_challenger(tmp_path, monkeypatch, "price", "regression", versions=("1", "2"))
    assert isinstance(out.exception, SchemaError), out.output
    assert "regression model" in str(out.exception) and "remove 'challenger'" in str(out.exception)
    assert store.list_monitors() == []  # nothing stored
    store.dispose()

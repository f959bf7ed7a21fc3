"""Operator commands: --version, completion, --format json on list commands, runs list/show,
alerts ack/silence, monitor delete, range validation and untruncated piped output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jobs.cli import app
from monitor.errors import NotFoundError, SchemaError
from monitor.signals.results import SignalResult
from monitor.spec.model_version import ModelVersion
from monitor.store import AlertPolicy, EndpointSpec, Store

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
LONG_URL = "http://127.0.0.1:9/" + "a-very-long-path-segment/" * 8 + "hook"
MV = ModelVersion.model_validate({"name": "credit", "version": "1", "task": "binary",
                                  "features": {"age": "numeric"}, "scores": ["score"]})  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store with one monitor, two runs (the second in alert) and a long webhook URL."""
    monkeypatch.setenv("RAIWATCH_HOME", str(tmp_path))
    monkeypatch.delenv("RAIWATCH_DATABASE_URL", raising=False)
    store = Store(f"sqlite:///{tmp_path / 'raiwatch.db'}")
    store.migrate()
    store.register_model_version(MV)
    store.upsert_monitor("m1", "credit", "1", {"name": "m1", "model": "credit", "version": "1"},
                         start_at=T0, endpoints=[EndpointSpec(LONG_URL, "whsec_c2VjcmV0")])  # fmt: skip
    for hour, status in enumerate(["ok", "alert"]):
        value = 0.5 if status == "alert" else 0.01
        result = SignalResult(signal="data_drift", feature="age", metric="wasserstein", value=value, threshold=0.1, status=status)
        start = T0 + hour * HOUR
        store.save_run("m1", "credit", "1", start, start + HOUR, status, [result], 10, 0.1, {},
                       policy=AlertPolicy())  # fmt: skip
    store.dispose()
    return tmp_path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_version_and_completion() -> None:
    from jobs import __version__

    code, out = _run("--version")
    assert code == 0 and out.strip() == f"raiwatch {__version__}"
    # a clean environment: a completion variable left by another test would change the mode
    env = {k: v for k, v in os.environ.items() if not k.startswith("_RAIWATCH") and k != "COMP_WORDS"}
    # typer detects the shell from the parent processes unless told to take it as an argument;
    # under CI the parent may be make or a runner, not a shell
    env["_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", "from jobs.cli import main; main()", "--show-completion", "bash"],
        capture_output=True, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    script = done.stdout
    assert "_RAIWATCH_COMPLETE=complete_bash" in script
    assert "complete -o default -F _raiwatch_completion raiwatch" in script


def test_runs_list_and_show_as_json_and_table(home: Path) -> None:
    code, out = _run("runs", "list", "--format", "json")
    assert code == 0
    runs = json.loads(out)
    assert [r["status"] for r in runs] == ["alert", "ok"]  # newest window first
    assert runs[0]["monitor"] == "m1" and "results" not in runs[0]
    code, out = _run("runs", "show", str(runs[0]["id"]), "--format", "json")
    [shown] = json.loads(out)
    assert shown["results"][0]["feature"] == "age" and shown["results"][0]["status"] == "alert"
    code, out = _run("runs", "show", str(runs[1]["id"]))
    assert "no result outside ok" in out
    code, out = _run("runs", "show", str(runs[1]["id"]), "--all")
    assert "wasserstein" in out
    with pytest.raises(NotFoundError, match="run 999 does not exist"):
        _run("runs", "show", "999")


@pytest.mark.parametrize(
    ("command", "key"),
    [
        (["model", "list"], "model"),
        (["monitor", "list"], "name"),
        (["webhooks", "list"], "webhook_id"),
        (["apikey", "list"], "prefix"),
        (["alerts", "list"], "signal"),
        (["runs", "list"], "window_start"),
    ],
)
def test_every_list_command_prints_json(home: Path, command: list[str], key: str) -> None:
    if command[0] == "apikey":
        _run("apikey", "create", "k1")
    code, out = _run(*command, "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert rows and key in rows[0]
    code, _ = _run(*command, "--format", "yaml")
    assert code == 2  # click rejects an unknown choice


def test_alerts_ack_and_silence_from_the_cli(home: Path) -> None:
    code, out = _run("alerts", "ack", "m1", "data_drift", "--by", "ana", "--note", "on it")
    assert code == 0 and "acknowledged by ana" in out
    code, out = _run("alerts", "silence", "m1", "data_drift", "--for", "4h", "--by", "ana")
    assert code == 0 and "silenced until" in out
    [alert] = json.loads(_run("alerts", "list", "--firing", "--format", "json")[1])
    assert alert["acknowledged_by"] == "ana" and alert["silenced_until"] is not None
    with pytest.raises(SchemaError, match=r"'4 hours' is not a duration; use .* 30m, 4h or 7d"):
        _run("alerts", "silence", "m1", "data_drift", "--for", "4 hours", "--by", "ana")
    _run("alerts", "unsilence", "m1", "data_drift")
    [alert] = json.loads(_run("alerts", "list", "--format", "json")[1])
    assert alert["silenced_until"] is None


def test_monitor_delete_asks_then_deletes_keeping_runs(home: Path) -> None:
    result = CliRunner().invoke(app, ["monitor", "delete", "m1"], input="n\n")
    assert result.exit_code == 1
    store = Store(f"sqlite:///{home / 'raiwatch.db'}")
    assert store.get_monitor("m1").name == "m1"
    code, out = _run("monitor", "delete", "m1", "--yes")
    assert code == 0 and "deleted monitor m1" in out and "1 webhook_endpoints" in out
    assert store.list_monitors() == [] and store.list_endpoints() == []
    assert store.list_alert_states("m1") == [] and store.list_deliveries() == []
    assert store.count_runs("m1") == 2  # kept without --purge-runs
    with pytest.raises(NotFoundError, match="monitor 'm1' does not exist"):
        _run("monitor", "delete", "m1", "--yes")
    store.upsert_monitor("m1", "credit", "1", {"name": "m1"}, start_at=T0)
    _run("monitor", "delete", "m1", "--yes", "--purge-runs")
    assert store.count_runs("m1") == 0
    store.dispose()


def test_end_before_start_is_an_error(home: Path) -> None:
    with pytest.raises(SchemaError, match=r"--end 2024-03-01T00:00:00\+00:00 is before --start"):
        _run("monitor", "run", "-m", "credit", "-v", "1",
             "--start", "2024-03-02", "--end", "2024-03-01")  # fmt: skip
    with pytest.raises(SchemaError, match="is equal to --start"):
        _run("monitor", "run", "-m", "credit", "-v", "1",
             "--start", "2024-03-01", "--end", "2024-03-01")  # fmt: skip
    with pytest.raises(SchemaError, match=r"is before --start .* \(the range is \[start, end\]\)"):
        _run("monitor", "backfill", "m1", "--start", "2024-03-02", "--end", "2024-03-01")


def test_piped_tables_are_not_cut_to_80_columns(home: Path) -> None:
    """A real process writing to a pipe (not a terminal) keeps every column whole."""
    env = {**os.environ, "RAIWATCH_HOME": str(home), "COLUMNS": "80"}
    env.pop("RAIWATCH_DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", "from jobs.cli import main; main()", "webhooks", "list"],
        capture_output=True, text=True, env=env, cwd=ROOT, check=True,
    ).stdout  # fmt: skip
    assert LONG_URL in out
    assert max(len(line) for line in out.splitlines()) > 80

"""Compaction: a day's small files merged into few, atomically, and safe against kill -9.

Each crash test compacts in a subprocess that SIGKILLs itself at an injected
point, then checks that a long-lived log store (opened before the crash, as
``serve``'s is) and a freshly opened one read exactly the rows written before,
each once; a second compaction then completes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from jobs.cli import app as cli_app
from monitor.ingest.compaction import CRASH_ENV, compact_logs
from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import ModelVersion

ROOT = Path(__file__).resolve().parents[2]
MV = ModelVersion.model_validate({"name": "credit", "version": "1", "task": "binary",
                                  "features": {"age": "numeric"}, "scores": ["score"]})  # fmt: skip
T0 = datetime(2024, 3, 1, tzinfo=UTC)
BATCHES, ROWS = 12, 25


def _fill(logs: LogStore) -> set[str]:
    ids: set[str] = set()
    for b in range(BATCHES):  # every batch spans two days: 2 files per batch
        rows = [{"request_id": f"b{b}-{i}", "timestamp": T0 + timedelta(hours=12 + i + b), "age": i,
                 "prediction": "1", "score": 0.5} for i in range(ROWS)]  # fmt: skip
        assert logs.ingest_frame(MV, pd.DataFrame(rows)).accepted == ROWS
        ids |= {str(r["request_id"]) for r in rows}
    return ids


def _ids(logs: LogStore) -> list[str]:
    return [i for b in logs.scan(MV, columns=["request_id"]) for i in b.column(0).to_pylist()]


def _files(root: Path) -> int:
    return len(list((root / "logs").rglob("part-*.parquet")))


def test_compaction_merges_small_files_and_keeps_every_row(tmp_path: Path) -> None:
    logs = LogStore(tmp_path)
    ids = _fill(logs)
    days = len(logs.days(MV))
    before = _files(tmp_path)
    report = compact_logs(logs, MV, min_files=2)
    assert report.files_before == before and report.files_after == days == _files(tmp_path)
    assert report.rows == len(ids)
    got = _ids(logs)
    assert sorted(got) == sorted(ids)  # nothing lost, nothing doubled
    assert compact_logs(logs, MV, min_files=2).days == 0  # one file per day: nothing to do
    # the compacted layout still deduplicates retried request ids
    retry = logs.ingest_frame(MV, pd.DataFrame([{"request_id": "b0-0", "timestamp": T0 + timedelta(hours=12),
                                                 "age": 0, "prediction": "1", "score": 0.5}]))  # fmt: skip
    assert retry.accepted == 0 and retry.duplicates == 1


@pytest.mark.slow
@pytest.mark.parametrize("point", ["staged", "journaled", "renamed", "deleted_one"])
def test_kill_9_at_any_point_loses_and_doubles_nothing(tmp_path: Path, point: str) -> None:
    long_lived = LogStore(tmp_path)  # opened before the crash, like serve's
    ids = _fill(long_lived)
    code = ("from monitor.ingest.logstore import LogStore; from monitor.ingest.compaction import compact_logs; "
            "from tests.monitor.test_core_compaction import MV; import sys; "
            "compact_logs(LogStore(sys.argv[1]), MV, min_files=2)")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), CRASH_ENV: point},
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    journals = list((tmp_path / "_journal" / "compaction").glob("*.json"))
    assert (len(journals) == 1) == (point != "staged")  # killed mid-swap: an orphan journal
    got = _ids(long_lived)  # the scan finishes the orphaned swap first
    assert sorted(got) == sorted(ids)
    assert sorted(_ids(LogStore(tmp_path))) == sorted(ids)
    assert not list((tmp_path / "_journal" / "compaction").glob("*.json"))
    compact_logs(LogStore(tmp_path), MV, min_files=2)
    assert sorted(_ids(LogStore(tmp_path))) == sorted(ids)
    assert _files(tmp_path) == len(long_lived.days(MV))


def test_cli_logs_compact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("RAIWATCH_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    home = tmp_path / "home"
    model = tmp_path / "model.yaml"
    model.write_text(MV.to_yaml())
    runner = CliRunner()
    assert runner.invoke(cli_app, ["model", "register", "-f", str(model), "--home", str(home)]).exit_code == 0
    ids = _fill(LogStore(home))
    result = runner.invoke(cli_app, ["logs", "compact", "--home", str(home), "--min-files", "2"])
    assert result.exit_code == 0, result.output
    assert f"credit:1: {len(LogStore(home).days(MV))} day(s) compacted, {BATCHES * 2} files" in result.output
    assert sorted(_ids(LogStore(home))) == sorted(ids)

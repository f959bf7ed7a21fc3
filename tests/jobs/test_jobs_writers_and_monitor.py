"""Writers never break each other: 8 HTTP writers, compaction and a monitor loop at once.

Each writer posts batches that span two days (two files, so every batch goes
through a journal) to one ``serve`` process; meanwhile the test process runs a
monitor over the same data again and again (opening a log store per window, which
runs journal recovery, as the engine does) and compacts the log store. Afterwards:
no 5xx, no window stored as ``error``, and the stored rows are exactly the
acknowledged rows, each once.

It runs 60 s of load (~1,200 journalled batches and ~300 monitor windows; the old
recovery race failed ~1 window in 130 and lost a batch's answer).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from jobs.runner import MonitorRunner
from monitor.ingest.compaction import compact_logs
from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import ModelVersion
from monitor.spec.monitor import parse_monitor_spec
from monitor.store import Store
from tests.jobs.fakes import ScanningEvaluator
from tests.jobs.service_process import ServiceProcess

pytestmark = pytest.mark.slow
MV = ModelVersion.model_validate({"name": "credit", "version": "1", "task": "binary",
                                  "features": {"age": "numeric"}, "scores": ["score"]})  # fmt: skip
T0 = datetime(2024, 3, 1, 22, tzinfo=UTC)  # batches cross midnight: two day files each
LOAD_S = 60.0
WRITERS = 8


def _batch(writer: int, n: int, size: int = 40) -> list[dict[str, object]]:
    return [
        {"request_id": f"w{writer}-b{n}-{i}",
         "timestamp": (T0 + timedelta(minutes=(n * 7 + i * 5) % 240)).isoformat(),
         "age": i, "prediction": "1", "score": 0.5}
        for i in range(size)
    ]  # fmt: skip


def test_writers_compaction_and_monitor_loop_never_break_each_other(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'raiwatch.db'}"
    store = Store(db_url)
    store.migrate()
    store.register_model_version(MV)
    key = store.create_api_key("load")
    spec = parse_monitor_spec({"name": "m", "model": "credit", "version": "1",
                               "schedule": "0 * * * *", "window": "1h"})  # fmt: skip
    store.upsert_monitor("m", "credit", "1", spec.stored_dict(), start_at=T0)
    service = ServiceProcess(tmp_path, db_url, {"RAIWATCH_EVALUATOR": "tests.jobs.fakes:factory"})
    stop = threading.Event()
    acknowledged: list[int] = []
    failures: list[str] = []
    statuses: list[str] = []
    compactions: list[int] = []

    def writer(w: int) -> None:
        n = 0
        with httpx.Client(timeout=60) as http:
            while not stop.is_set():
                r = http.post(f"{service.url}/api/v1/models/credit/versions/1/logs",
                              json=_batch(w, n), headers={"X-API-Key": key})  # fmt: skip
                if r.status_code == 200:
                    acknowledged.append(r.json()["accepted"])
                else:
                    failures.append(f"{r.status_code}: {r.text[:300]}")
                n += 1

    def monitor_loop() -> None:
        runner = MonitorRunner(store, ScanningEvaluator(store, tmp_path))
        while not stop.is_set():
            ids = runner.backfill("m", T0, T0 + timedelta(hours=4))
            statuses.extend(store.get_run(i).status for i in ids)

    def compactor() -> None:
        while not stop.is_set():
            compactions.append(compact_logs(LogStore(tmp_path), MV, min_files=4).files_before)
            time.sleep(0.5)

    try:
        service.wait_healthy()
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        threads += [threading.Thread(target=monitor_loop), threading.Thread(target=compactor)]
        for t in threads:
            t.start()
        time.sleep(LOAD_S)
        stop.set()
        for t in threads:
            t.join(120)
    finally:
        stop.set()
        service.stop()
    assert failures == []
    assert statuses and set(statuses) == {"ok"}, {s: statuses.count(s) for s in set(statuses)}
    ids = [i for b in LogStore(tmp_path).scan(MV, columns=["request_id"]) for i in b.column(0).to_pylist()]
    assert len(ids) == len(set(ids)) == sum(acknowledged)
    assert sum(acknowledged) >= WRITERS * 40 * 5  # the load really ran
    assert sum(compactions) > 0  # and compaction really swapped files under it
    print(f"acknowledged={sum(acknowledged)} batches={len(acknowledged)} windows={len(statuses)} "
          f"compacted_files={sum(compactions)}")  # fmt: skip
    store.dispose()

"""Compaction: merge a day's small log files into few large ones, atomically.

Writers append one small file per batch; thousands of them make every scan slow.
:func:`compact_logs` rewrites the files of each day partition that has at least
``min_files`` of them into files of up to ``target_rows`` rows, and swaps them in
like this:

1. the merged files are written under hidden temporary names and fsynced
   (a crash here leaves only hidden files, ignored by readers and removed later);
2. under the model version's *layout* lock (exclusive: no scan is listing files)
   a journal naming the merged files and the replaced ones is written, held
   under an ``flock`` by the compacting process;
3. the merged files are renamed into place, the replaced ones deleted, the
   directory fsynced and the journal removed.

A crash after step 2 leaves a journal whose lock is free; the next scan or
store open rolls it forward (renames what is left, deletes what is left) under
the same exclusive lock, so no reader ever sees both the merged rows and the
rows they replaced, and no row is lost. Labels are not compacted: their file
names carry the arrival order that decides corrections.

Crash points can be injected for tests with ``$RAIWATCH_COMPACTION_CRASH_AT``
(``staged``, ``journaled``, ``renamed``, ``deleted_one``): the process kills
itself with SIGKILL there.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.dataset as ds
import pyarrow.parquet as pq

from monitor.ingest.file_locks import locked, try_lock_orphan, write_locked_journal
from monitor.ingest.log_rows import log_schema
from monitor.spec.model_version import ModelVersion

if TYPE_CHECKING:
    from monitor.ingest.logstore import LogStore

CRASH_ENV = "RAIWATCH_COMPACTION_CRASH_AT"


@dataclass
class CompactionReport:
    """What one compaction did."""

    days: int = 0
    files_before: int = 0
    files_after: int = 0
    rows: int = 0
    details: list[dict[str, object]] = field(default_factory=list)


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _small_files(day_dir: Path) -> list[Path]:
    return sorted(p for p in day_dir.glob("part-*.parquet") if p.is_file())


def _write_merged(mv: ModelVersion, files: list[Path], target_rows: int) -> list[tuple[Path, Path]]:
    """Merged copies of ``files`` under temporary names; returns ``(temporary, final)`` pairs."""
    schema = log_schema(mv)
    dataset = ds.dataset([str(f) for f in files], format="parquet", schema=schema)
    staged: list[tuple[Path, Path]] = []
    writer: pq.ParquetWriter | None = None
    rows_in_file = 0
    directory = files[0].parent
    try:
        for batch in dataset.to_batches(batch_size=65_536):
            if writer is None or rows_in_file >= target_rows:
                if writer is not None:
                    writer.close()
                name = f"part-{time.time_ns():020d}-c{uuid.uuid4().hex[:11]}.parquet"
                tmp = directory / f".{name}.tmp"
                staged.append((tmp, directory / name))
                writer = pq.ParquetWriter(tmp, schema, compression="zstd")
                rows_in_file = 0
            writer.write_batch(batch)
            rows_in_file += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    for tmp, _ in staged:
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
    return staged


def _roll_forward(plan: dict[str, Any]) -> None:
    from monitor.ingest.logstore import fsync_dir

    directories: set[Path] = set()
    for tmp_name, final_name in plan["add"]:
        tmp, final = Path(tmp_name), Path(final_name)
        if tmp.exists():
            os.replace(tmp, final)
        directories.add(final.parent)
    _crash_point("renamed")
    for i, name in enumerate(plan["remove"]):
        path = Path(str(name))
        path.unlink(missing_ok=True)
        directories.add(path.parent)
        if i == 0:
            _crash_point("deleted_one")
    for directory in directories:
        if directory.is_dir():
            fsync_dir(directory)


def compact_day(logs: LogStore, mv: ModelVersion, day_dir: Path, *, target_rows: int) -> tuple[int, int, int]:
    """Compact one day partition; returns ``(files before, files after, rows)``."""
    files = _small_files(day_dir)
    staged = _write_merged(mv, files, target_rows)
    rows = sum(pq.ParquetFile(tmp).metadata.num_rows for tmp, _ in staged)
    _crash_point("staged")
    logs.compaction_journal_dir.mkdir(parents=True, exist_ok=True)
    journal = logs.compaction_journal_dir / f"{uuid.uuid4().hex}.json"
    plan: dict[str, Any] = {"model": mv.name, "version": mv.version,
            "add": [[str(t), str(f)] for t, f in staged], "remove": [str(f) for f in files]}  # fmt: skip
    with locked(logs.lock_path(mv, "layout"), "exclusive"):
        handle = write_locked_journal(journal, json.dumps(plan))
        try:
            _crash_point("journaled")
            _roll_forward(plan)
            journal.unlink()
        finally:
            handle.close()
    return len(files), len(staged), rows


def compact_logs(
    logs: LogStore,
    mv: ModelVersion,
    *,
    min_files: int = 4,
    target_rows: int = 1_000_000,
) -> CompactionReport:
    """Compact every day partition of ``mv``'s logs holding at least ``min_files`` files.

    Compactions of one model version are serialised by its ``compact`` lock;
    writers keep appending meanwhile (their new files are compacted next time).
    """
    report = CompactionReport()
    base = logs.log_root / f"model={mv.name}" / f"version={mv.version}"
    if not base.is_dir():
        return report
    with locked(logs.lock_path(mv, "compact"), "exclusive"):
        finish_orphan_compactions(logs)
        for day_dir in sorted(p for p in base.glob("date=*") if p.is_dir()):
            if len(_small_files(day_dir)) < max(min_files, 2):
                continue
            before, after, rows = compact_day(logs, mv, day_dir, target_rows=target_rows)
            report.days += 1
            report.files_before += before
            report.files_after += after
            report.rows += rows
            report.details.append({"day": day_dir.name.split("=", 1)[1], "files_before": before,
                                   "files_after": after, "rows": rows})  # fmt: skip
    return report


def finish_orphan_compactions(logs: LogStore) -> int:
    """Roll forward compactions whose process died mid-swap; returns how many."""
    directory = logs.compaction_journal_dir
    if not directory.is_dir():
        return 0
    done = 0
    for journal in sorted(directory.glob("*.json")):
        handle = try_lock_orphan(journal)
        if handle is None:
            continue  # a live compaction: it holds the layout lock and finishes by itself
        try:
            plan = json.loads(handle.read().decode() or "{}")
        finally:
            handle.close()
        if not plan:
            journal.unlink(missing_ok=True)
            continue
        mv_key = ModelVersion.model_construct(name=plan["model"], version=plan["version"])
        with locked(logs.lock_path(mv_key, "layout"), "exclusive"):
            handle = try_lock_orphan(journal)
            if handle is None:
                continue
            try:
                _roll_forward(plan)
                journal.unlink(missing_ok=True)
                done += 1
            finally:
                handle.close()
    return done

"""The inference-log store: Parquet files partitioned by model, version and date.

Layout under the store root::

    logs/model=<name>/version=<v>/date=YYYY-MM-DD/part-<uuid>.parquet
    labels/model=<name>/version=<v>/date=YYYY-MM-DD/part-<uuid>.parquet
    quarantine/model=<name>/version=<v>/date=YYYY-MM-DD/part-<uuid>.parquet

Writers append small files atomically (written under a dot-name, fsynced, then
renamed, and the directory fsynced), so a reader never sees half a file, a crash
never leaves a corrupt one, and a batch is durable when ``ingest_*`` returns. A
batch that spans several days (several files) is published through a journal
held under an ``flock`` by its writer; :meth:`LogStore.recover` rolls forward
only journals whose writer is gone (their lock is free), so opening a store never
disturbs a live writer.

Writers of one model version's logs hold that version's write lock while they
check for request ids already stored (on the days the batch touches) and
publish, so a retried batch is never stored twice, even by two processes.
Validated batches that arrive at the same time in one process
(:meth:`LogStore.append_logs`, used by the HTTP API) are published together by a
group commit: one file per day and one fsync for all of them, each caller
returning once the group is durable.
Scans hold the version's layout lock shared; compaction
(:mod:`monitor.ingest.compaction`) swaps files under it exclusively, so a scan
never sees a compacted file beside the files it replaced.

Labels are decided by arrival order: the label that arrived last wins for a
request id, whatever its ``label_timestamp`` says (file names are time-ordered).
Rows that do not fit the schema are quarantined with a reason, never dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from monitor.errors import CorruptFileError, DataError
from monitor.ingest.compaction import finish_orphan_compactions
from monitor.ingest.conform import TYPE_ERRORS_COLUMN, conform
from monitor.ingest.file_locks import locked, try_lock_orphan, write_locked_journal
from monitor.ingest.group_commit import GroupCommit
from monitor.ingest.log_rows import (
    TimestampBounds,
    label_schema,
    log_schema,
    validate_labels,
    validate_logs,
)
from monitor.ingest.request_ids import RequestIdIndex
from monitor.ingest.sources import iter_batches
from monitor.spec.model_version import ModelVersion


@dataclass
class IngestReport:
    """What an ingest call kept, quarantined and ignored."""

    accepted: int = 0
    quarantined: int = 0
    with_type_errors: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # labels only: the request ids stored, how many of them already had a label
    # (the newest label wins) and how many name no logged request (yet)
    request_ids: list[str] = field(default_factory=list)
    relabelled: int = 0
    unknown_ids: int = 0
    # logs only: rows whose request id was already stored for the model version (not stored again)
    duplicates: int = 0
    # files only: when the same content was ingested before, its first ingestion (nothing stored)
    already_ingested: dict[str, object] | None = None

    def add(self, other: IngestReport) -> None:
        self.accepted += other.accepted
        self.quarantined += other.quarantined
        self.with_type_errors += other.with_type_errors
        for k, v in other.reasons.items():
            self.reasons[k] = self.reasons.get(k, 0) + v
        self.ignored_columns = sorted(set(self.ignored_columns) | set(other.ignored_columns))
        self.files += other.files
        self.request_ids += other.request_ids
        self.relabelled += other.relabelled
        self.unknown_ids += other.unknown_ids
        self.duplicates += other.duplicates

    def to_dict(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "with_type_errors": self.with_type_errors,
            "reasons": self.reasons,
            "ignored_columns": self.ignored_columns,
            "duplicates": self.duplicates,
        }


def _partition(root: Path, mv: ModelVersion, day: dt.date) -> Path:
    return root / f"model={mv.name}" / f"version={mv.version}" / f"date={day.isoformat()}"


def _stage(table: pa.Table, directory: Path, *, skip_dictionary: str | None = None) -> tuple[Path, Path]:
    """Write ``table`` under a hidden temporary name; returns ``(temporary, final)`` paths.

    Only string columns are dictionary-encoded (floats rarely repeat), and not
    ``skip_dictionary`` (request ids are unique): a quarter of the write time, and smaller files.
    """
    directory.mkdir(parents=True, exist_ok=True)
    # Time-ordered names: readers see files in write order, so "last label wins" is
    # decided by arrival when two labels carry the same timestamp.
    name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:12]}.parquet"
    tmp = directory / f".{name}.tmp"
    dictionary = [f.name for f in table.schema if pa.types.is_string(f.type) and f.name != skip_dictionary]
    pq.write_table(table, tmp, compression="zstd", use_dictionary=dictionary)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    return tmp, directory / name


def fsync_dir(directory: Path) -> None:
    """Make renames and deletions in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def arrival_key(path: str | Path) -> str:
    """The arrival order of a data file, from its time-ordered name (``part-<ns>-...``)."""
    return Path(path).name.split("-")[1] if Path(path).name.startswith("part-") else ""


STALE_TMP_SECONDS = 3600
LockKind = Literal["write", "layout", "compact"]


class LogStore:
    """Append and scan inference logs and labels of model versions.

    Parameters
    ----------
    root
        The data directory (``logs/``, ``labels/``, ``quarantine/`` go under it).
    timestamp_bounds
        Plausibility bounds on log and label timestamps (default: not before
        2000, not more than one day in the future).
    """

    def __init__(self, root: str | Path, *, timestamp_bounds: TimestampBounds | None = None) -> None:
        self.root = Path(root)
        self.log_root = self.root / "logs"
        self.label_root = self.root / "labels"
        self.quarantine_root = self.root / "quarantine"
        self.journal_dir = self.root / "_journal"
        self.compaction_journal_dir = self.journal_dir / "compaction"
        self.ledger_root = self.root / "_ingested"
        self.bounds = timestamp_bounds or TimestampBounds()
        self._id_index = RequestIdIndex()
        self._groups: dict[tuple[str, str], GroupCommit[pa.Table, IngestReport]] = {}
        self._groups_lock = threading.Lock()
        self.recover()

    def lock_path(self, mv: ModelVersion, kind: LockKind) -> Path:
        """The ``flock`` file of one model version's ``write``, ``layout`` or ``compact`` lock."""
        digest = hashlib.sha256(f"{mv.name}\0{mv.version}".encode()).hexdigest()[:24]
        return self.root / "_locks" / f"{digest}.{kind}.lock"

    # --- atomic multi-file commits ---------------------------------------------------------
    def _commit(self, staged: list[tuple[Path, Path]]) -> list[str]:
        """Publish staged files all together: a batch is never left half-visible.

        With more than one file a journal naming every rename is written first;
        :meth:`recover` (run whenever a store is opened) completes the renames of a
        commit that a crash interrupted, so a batch is either absent or whole.
        """
        journal = handle = None
        if len(staged) > 1:
            self.journal_dir.mkdir(parents=True, exist_ok=True)
            journal = self.journal_dir / f"{uuid.uuid4().hex}.json"
            handle = write_locked_journal(journal, json.dumps([[str(a), str(b)] for a, b in staged]))
        try:
            for tmp_path, final in staged:
                os.replace(tmp_path, final)
            for directory in {final.parent for _, final in staged}:
                fsync_dir(directory)
            if journal is not None:
                journal.unlink()
        finally:
            if handle is not None:
                handle.close()
        return [str(final) for _, final in staged]

    def recover(self) -> int:
        """Finish commits whose writer died and delete abandoned temporary files.

        Only journals whose ``flock`` is free are touched: a journal of a live
        writer (another thread or process) is left alone. Returns renames done.
        """
        done = 0
        if self.journal_dir.is_dir():
            for journal in sorted(self.journal_dir.glob("*.json")):
                handle = try_lock_orphan(journal)
                if handle is None:
                    continue
                try:
                    for tmp_name, final_name in json.loads(handle.read().decode() or "[]"):
                        tmp_path = Path(tmp_name)
                        if tmp_path.exists():
                            os.replace(tmp_path, final_name)
                            done += 1
                    journal.unlink(missing_ok=True)
                finally:
                    handle.close()
        finish_orphan_compactions(self)
        cutoff = time.time() - STALE_TMP_SECONDS
        for root in (self.log_root, self.label_root, self.quarantine_root):
            if root.is_dir():
                for tmp_path in root.rglob(".part-*.tmp"):
                    if tmp_path.stat().st_mtime < cutoff:  # staged but never journaled: a crash
                        tmp_path.unlink(missing_ok=True)
        return done

    # --- writing -------------------------------------------------------------------------
    def _stage_by_day(self, table: pa.Table, mv: ModelVersion, root: Path, ts_col: str) -> list[tuple[Path, Path]]:
        if table.num_rows == 0:
            return []
        days = pc.cast(table.column(ts_col).cast(pa.timestamp("us", tz="UTC")), pa.date32())
        unique = sorted(pc.unique(days).to_pylist())
        skip = mv.id_column if root == self.log_root else "request_id"
        if len(unique) == 1:  # the usual batch: one day, no copy
            return [_stage(table, _partition(root, mv, unique[0]), skip_dictionary=skip)]
        return [_stage(table.filter(pc.equal(days, pa.scalar(day, pa.date32()))), _partition(root, mv, day),
                       skip_dictionary=skip) for day in unique]  # fmt: skip

    def _stage_quarantine(self, mv: ModelVersion, rejected: pd.DataFrame, source: str) -> list[tuple[Path, Path]]:
        if rejected.empty:
            return []
        now = dt.datetime.now(dt.UTC)
        table = pa.table(
            {
                "reason": rejected["reason"].astype(str).tolist(),
                "row": rejected["row"].tolist(),
                "source": [source] * len(rejected),
                "quarantined_at": pa.array([now] * len(rejected), pa.timestamp("us", tz="UTC")),
            }
        )
        return [_stage(table, _partition(self.quarantine_root, mv, now.date()))]

    def ingest_frame(self, mv: ModelVersion, frame: pd.DataFrame, *, source: str = "frame") -> IngestReport:
        """Validate and append inference-log rows; bad rows go to quarantine."""
        accepted, rejected, ignored = validate_logs(mv, frame, bounds=self.bounds)
        with locked(self.lock_path(mv, "write")):
            stored = self._stored_ids(mv, accepted[mv.timestamp_column], set(accepted[mv.id_column]))
            dup = accepted[mv.id_column].isin(stored).to_numpy()
            table = pa.Table.from_pandas(accepted.loc[~dup], schema=log_schema(mv), preserve_index=False)
            staged = self._stage_by_day(table, mv, self.log_root, mv.timestamp_column)
            files = self._commit(staged + self._stage_quarantine(mv, rejected, source))[: len(staged)]
        report = _report(table, rejected, ignored, files)
        report.duplicates = int(dup.sum())
        return report

    def append_logs(self, mv: ModelVersion, table: pa.Table) -> IngestReport:
        """Append validated log rows (the :func:`log_schema` table), skipping stored request ids.

        Concurrent calls for one model version are committed together (group
        commit); each returns its own report once its rows are durable.
        """
        key = (mv.name, mv.version)
        with self._groups_lock:
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = GroupCommit(lambda tables: self._commit_logs(mv, tables))
        return group.submit(table)

    def _commit_logs(self, mv: ModelVersion, tables: Sequence[pa.Table]) -> list[IngestReport]:
        """Publish several validated tables at once; a request id is stored once across all of them."""
        id_col, ts_col = mv.id_column, mv.timestamp_column
        id_lists = [t.column(id_col).to_pylist() for t in tables]
        wanted = set().union(*id_lists)
        with locked(self.lock_path(mv, "write")):
            days = pc.unique(pa.concat_arrays(
                [pc.cast(t.column(ts_col), pa.date32()).combine_chunks() for t in tables]))  # fmt: skip
            seen = self._stored_ids_on(mv, [d.as_py() for d in days], wanted)
            if not seen and len(wanted) == sum(map(len, id_lists)):
                kept, duplicates = list(tables), [0] * len(tables)  # nothing stored twice: no per-row check
            else:
                kept, duplicates = [], []
                for table, ids in zip(tables, id_lists, strict=True):
                    keep = [i not in seen for i in ids]
                    seen.update(ids)
                    duplicates.append(len(ids) - sum(keep))
                    kept.append(table.filter(pa.array(keep, pa.bool_())) if duplicates[-1] else table)
                wanted = set().union(*(t.column(id_col).to_pylist() for t in kept))
            merged = pa.concat_tables(kept)
            staged = self._stage_by_day(merged, mv, self.log_root, ts_col)
            files = self._commit(staged)
            self._remember_ids(mv, merged, files, wanted)  # our own files: the index need not read them
        return [_report(table, _NO_REJECTS, [], files, duplicates=n) for table, n in zip(kept, duplicates, strict=True)]

    def _remember_ids(self, mv: ModelVersion, merged: pa.Table, files: list[str], ids: set[str]) -> None:
        days = pc.cast(merged.column(mv.timestamp_column), pa.date32()) if len(files) > 1 else None
        for path in files:
            directory = Path(path).parent
            if days is not None:
                day = dt.date.fromisoformat(directory.name.split("=", 1)[1])
                ids = set(merged.column(mv.id_column).filter(pc.equal(days, pa.scalar(day, pa.date32()))).to_pylist())
            self._id_index.remember(directory, Path(path).name, ids)

    def _stored_ids_on(self, mv: ModelVersion, days: Sequence[dt.date], ids: set[str]) -> set[str]:
        found: set[str] = set()
        if not ids:
            return found
        with locked(self.lock_path(mv, "layout"), "shared"):
            for day in sorted(days):
                found |= self._id_index.stored(_partition(self.log_root, mv, day), mv.id_column, ids)
        return found

    def _stored_ids(self, mv: ModelVersion, stamps: pd.Series, ids: set[str]) -> set[str]:
        """The ``ids`` already stored on the days of ``stamps`` (a retry has the same timestamps)."""
        if not ids:
            return set()
        days = sorted(set(pd.to_datetime(stamps, utc=True).dt.date))
        found: set[str] = set()
        with locked(self.lock_path(mv, "layout"), "shared"):
            for day in days:
                found |= self._id_index.stored(_partition(self.log_root, mv, day), mv.id_column, ids)
        return found

    def ingest_labels_frame(
        self, mv: ModelVersion, frame: pd.DataFrame, *, source: str = "frame", check_known: bool = False
    ) -> IngestReport:
        """Validate and append ground-truth labels keyed by request id.

        With ``check_known`` the report also counts labels that replace earlier ones
        (the label that arrived last wins) and labels whose request id was never logged: those
        are kept aside in the label store and join if the request is logged later.
        """
        accepted, rejected, ignored = validate_labels(mv, frame, bounds=self.bounds)
        ids = accepted["request_id"].astype(str)
        previous = set(self.read_labels(mv)["request_id"].astype(str)) if check_known else set()
        table = pa.Table.from_pandas(accepted, schema=label_schema(mv), preserve_index=False)
        staged = self._stage_by_day(table, mv, self.label_root, "label_timestamp")
        files = self._commit(staged + self._stage_quarantine(mv, rejected, source))[: len(staged)]
        report = _report(table, rejected, ignored, files)
        report.request_ids = sorted(set(ids))
        if check_known:
            # duplicates within the batch and labels replacing earlier ones: the last arrival wins
            report.relabelled = int(ids.duplicated().sum()) + len(previous & set(ids))
            report.unknown_ids = len(set(ids) - self.known_request_ids(mv, set(ids)))
        return report

    def known_request_ids(self, mv: ModelVersion, ids: set[str]) -> set[str]:
        """The subset of ``ids`` that appear in the inference logs (reads the id column only)."""
        if not ids:
            return set()
        wanted = pa.array(sorted(ids), pa.string())
        found: set[str] = set()
        for batch in self.scan(mv, columns=[mv.id_column]):
            col = batch.column(0)
            found.update(col.filter(pc.is_in(col, value_set=wanted)).to_pylist())
        return found

    def ingest_file(
        self, mv: ModelVersion, path: str | Path, *, labels: bool = False, force: bool = False
    ) -> IngestReport:
        """Ingest a CSV / Parquet / JSONL file as a whole.

        The file is read and validated completely before anything is written, so a
        corrupt or truncated file raises :class:`CorruptFileError` and stores nothing.
        A file whose content (SHA-256) was already ingested for the model version is
        skipped: the report's ``already_ingested`` says when and from where; ``force``
        ingests it again (log rows whose request ids are stored are still skipped).
        """
        digest = _file_digest(path)
        ledger = self._ledger_path(mv, "labels" if labels else "logs", digest)
        if ledger.exists() and not force:
            return IngestReport(already_ingested=json.loads(ledger.read_text()))
        frames = [b.to_pandas() if isinstance(b, pa.RecordBatch) else b for b in iter_batches(path)]
        if not frames:
            return IngestReport()
        frame = pd.concat(frames, ignore_index=True)
        if labels:
            report = self.ingest_labels_frame(mv, frame, source=str(path), check_known=True)
        else:
            report = self.ingest_frame(mv, frame, source=str(path))
        ledger.parent.mkdir(parents=True, exist_ok=True)
        entry = {"sha256": digest, "file": str(path), "at": dt.datetime.now(dt.UTC).isoformat(),
                 "accepted": report.accepted, "quarantined": report.quarantined}  # fmt: skip
        tmp = ledger.with_name(f".{ledger.name}.tmp")
        tmp.write_text(json.dumps(entry))
        os.replace(tmp, ledger)
        return report

    def _ledger_path(self, mv: ModelVersion, kind: str, digest: str) -> Path:
        return self.ledger_root / kind / f"model={mv.name}" / f"version={mv.version}" / f"{digest}.json"

    # --- reading -------------------------------------------------------------------------
    def _dataset(self, root: Path, mv: ModelVersion, schema: pa.Schema) -> ds.Dataset | None:
        base = root / f"model={mv.name}" / f"version={mv.version}"
        if not base.is_dir():
            return None
        part = ds.partitioning(pa.schema([("date", pa.string())]), flavor="hive")
        try:
            return ds.dataset(base, format="parquet", partitioning=part, schema=schema.append(pa.field("date", pa.string())))
        except (pa.ArrowInvalid, OSError) as err:
            raise CorruptFileError(f"cannot open the log store under {str(base)!r}: {err}") from err

    def scan(
        self,
        mv: ModelVersion,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        *,
        columns: Sequence[str] | None = None,
        batch_rows: int = 262_144,
    ) -> Iterator[pa.RecordBatch]:
        """Arrow batches of the log rows with ``start <= timestamp < end``."""
        ts = ds.field(mv.timestamp_column)
        flt = None
        if start is not None:
            start = _utc(start)
            flt = (ds.field("date") >= start.date().isoformat()) & (ts >= pa.scalar(start, pa.timestamp("us", tz="UTC")))
        if end is not None:
            end = _utc(end)
            cond = (ds.field("date") <= end.date().isoformat()) & (ts < pa.scalar(end, pa.timestamp("us", tz="UTC")))
            flt = cond if flt is None else flt & cond
        cols = list(columns) if columns is not None else log_schema(mv).names
        finish_orphan_compactions(self)
        with locked(self.lock_path(mv, "layout"), "shared"):
            # listed under the lock: compaction cannot swap files under this scan
            dataset = self._dataset(self.log_root, mv, log_schema(mv))
            if dataset is None:
                return
            try:
                yield from dataset.to_batches(columns=cols, filter=flt, batch_size=batch_rows)
            except FileNotFoundError:
                raise
            except (pa.ArrowInvalid, OSError) as err:
                raise CorruptFileError(
                    f"the log store of {mv.name}:{mv.version} has an unreadable file: {err}"
                ) from err

    def read_labels(self, mv: ModelVersion) -> pd.DataFrame:
        """Every stored label; per request id the one that arrived last wins.

        Arrival order, not ``label_timestamp``: a correction sent later replaces an
        earlier label even when a client's clock dated the earlier one in the future.
        """
        dataset = self._dataset(self.label_root, mv, label_schema(mv))
        names = label_schema(mv).names
        if dataset is None:
            return pd.DataFrame(columns=names)
        tables = []
        for fragment in sorted(dataset.get_fragments(), key=lambda f: (arrival_key(f.path), f.path)):
            tables.append(fragment.to_table(columns=names, schema=dataset.schema))
        if not tables:
            return pd.DataFrame(columns=names)
        frame = pa.concat_tables(tables).to_pandas()
        return frame.drop_duplicates("request_id", keep="last").reset_index(drop=True)

    def read_quarantine(self, mv: ModelVersion) -> pd.DataFrame:
        base = self.quarantine_root / f"model={mv.name}" / f"version={mv.version}"
        if not base.is_dir():
            return pd.DataFrame(columns=["reason", "row", "source", "quarantined_at"])
        return ds.dataset(base, format="parquet", partitioning="hive").to_table().to_pandas()

    def days(self, mv: ModelVersion) -> list[dt.date]:
        base = self.log_root / f"model={mv.name}" / f"version={mv.version}"
        if not base.is_dir():
            return []
        return sorted(dt.date.fromisoformat(p.name.split("=", 1)[1]) for p in base.glob("date=*") if p.is_dir())


def _file_digest(path: str | Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


_NO_REJECTS = pd.DataFrame()


def _report(
    table: pa.Table, rejected: pd.DataFrame, ignored: list[str], files: list[str], *, duplicates: int = 0
) -> IngestReport:
    reasons: dict[str, int] = {}
    if not rejected.empty:
        for kind in rejected["reason_kind"]:
            reasons[kind] = reasons.get(kind, 0) + 1
    te = table.column(TYPE_ERRORS_COLUMN) if TYPE_ERRORS_COLUMN in table.schema.names else None
    with_te = 0 if te is None else len(te) - te.null_count
    return IngestReport(table.num_rows, len(rejected), with_te, reasons, ignored, files, duplicates=duplicates)


__all__ = ["DataError", "IngestReport", "LogStore", "conform"]

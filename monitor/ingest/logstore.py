"""The inference-log store: Parquet files partitioned by model, version and date.

Layout under the store root::

    logs/model=<name>/version=<v>/date=YYYY-MM-DD/part-<uuid>.parquet
    labels/model=<name>/version=<v>/date=YYYY-MM-DD/part-<uuid>.parquet
    quarantine/model=<name>/version=<v>/date=YYYY-MM-DD/part-<uuid>.parquet

Writers append small files atomically (written under a dot-name, then renamed),
so a reader never sees half a file and a crash never leaves a corrupt one. A
batch that spans several days (several files) is published through a journal
that is rolled forward when a store is next opened, so a batch is never left
half-stored.
Rows that do not fit the schema are quarantined with a reason, never dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from monitor.errors import CorruptFileError, DataError
from monitor.ingest.conform import TYPE_ERRORS_COLUMN, conform
from monitor.ingest.log_rows import label_schema, log_schema, validate_labels, validate_logs
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

    def to_dict(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "with_type_errors": self.with_type_errors,
            "reasons": self.reasons,
            "ignored_columns": self.ignored_columns,
        }


def _partition(root: Path, mv: ModelVersion, day: dt.date) -> Path:
    return root / f"model={mv.name}" / f"version={mv.version}" / f"date={day.isoformat()}"


def _stage(table: pa.Table, directory: Path) -> tuple[Path, Path]:
    """Write ``table`` under a hidden temporary name; returns ``(temporary, final)`` paths."""
    directory.mkdir(parents=True, exist_ok=True)
    # Time-ordered names: readers see files in write order, so "last label wins" is
    # decided by arrival when two labels carry the same timestamp.
    name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:12]}.parquet"
    tmp = directory / f".{name}.tmp"
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    return tmp, directory / name


STALE_TMP_SECONDS = 3600
class LogStore:
    """Append and scan inference logs and labels of model versions."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.log_root = self.root / "logs"
        self.label_root = self.root / "labels"
        self.quarantine_root = self.root / "quarantine"
        self.journal_dir = self.root / "_journal"
        self.recover()

    # --- atomic multi-file commits ---------------------------------------------------------
    def _commit(self, staged: list[tuple[Path, Path]]) -> list[str]:
        """Publish staged files all together: a batch is never left half-visible.

        With more than one file a journal naming every rename is written first;
        :meth:`recover` (run whenever a store is opened) completes the renames of a
        commit that a crash interrupted, so a batch is either absent or whole.
        """
        journal = None
        if len(staged) > 1:
            self.journal_dir.mkdir(parents=True, exist_ok=True)
            journal = self.journal_dir / f"{uuid.uuid4().hex}.json"
            tmp = journal.with_suffix(".tmp")
            tmp.write_text(json.dumps([[str(a), str(b)] for a, b in staged]))
            os.replace(tmp, journal)
        for tmp_path, final in staged:
            os.replace(tmp_path, final)
        if journal is not None:
            journal.unlink()
        return [str(final) for _, final in staged]

    def recover(self) -> int:
        """Finish interrupted commits and delete abandoned temporary files; returns renames done."""
        done = 0
        if self.journal_dir.is_dir():
            for journal in sorted(self.journal_dir.glob("*.json")):
                for tmp_name, final_name in json.loads(journal.read_text()):
                    tmp_path = Path(tmp_name)
                    if tmp_path.exists():
                        os.replace(tmp_path, final_name)
                        done += 1
                journal.unlink()
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
        days = table.column(ts_col).cast(pa.timestamp("us", tz="UTC")).to_pandas().dt.date
        frame_days = pd.Series(days.to_numpy())
        staged = []
        for day in sorted(frame_days.unique()):
            idx = frame_days.index[frame_days == day].to_numpy()
            staged.append(_stage(table.take(pa.array(idx)), _partition(root, mv, day)))
        return staged

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
        accepted, rejected, ignored = validate_logs(mv, frame)
        table = pa.Table.from_pandas(accepted, schema=log_schema(mv), preserve_index=False)
        staged = self._stage_by_day(table, mv, self.log_root, mv.timestamp_column)
        files = self._commit(staged + self._stage_quarantine(mv, rejected, source))[: len(staged)]
        return _report(table, rejected, ignored, files)

    def ingest_labels_frame(
        self, mv: ModelVersion, frame: pd.DataFrame, *, source: str = "frame", check_known: bool = False
    ) -> IngestReport:
        """Validate and append ground-truth labels keyed by request id.

        With ``check_known`` the report also counts labels that replace earlier ones
        (the newest label wins) and labels whose request id was never logged: those
        are kept aside in the label store and join if the request is logged later.
        """
        accepted, rejected, ignored = validate_labels(mv, frame)
        ids = accepted["request_id"].astype(str)
        previous = set(self.read_labels(mv)["request_id"].astype(str)) if check_known else set()
        table = pa.Table.from_pandas(accepted, schema=label_schema(mv), preserve_index=False)
        staged = self._stage_by_day(table, mv, self.label_root, "label_timestamp")
        files = self._commit(staged + self._stage_quarantine(mv, rejected, source))[: len(staged)]
        report = _report(table, rejected, ignored, files)
        report.request_ids = sorted(set(ids))
        if check_known:
            # duplicates within the batch and labels replacing earlier ones: the newest wins
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

    def ingest_file(self, mv: ModelVersion, path: str | Path, *, labels: bool = False) -> IngestReport:
        """Ingest a CSV / Parquet / JSONL file as a whole.

        The file is read and validated completely before anything is written, so a
        corrupt or truncated file raises :class:`CorruptFileError` and stores nothing.
        """
        frames = [b.to_pandas() if isinstance(b, pa.RecordBatch) else b for b in iter_batches(path)]
        if not frames:
            return IngestReport()
        frame = pd.concat(frames, ignore_index=True)
        if labels:
            return self.ingest_labels_frame(mv, frame, source=str(path), check_known=True)
        return self.ingest_frame(mv, frame, source=str(path))

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
        dataset = self._dataset(self.log_root, mv, log_schema(mv))
        if dataset is None:
            return
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
        try:
            yield from dataset.to_batches(columns=cols, filter=flt, batch_size=batch_rows)
        except (pa.ArrowInvalid, OSError) as err:
            raise CorruptFileError(f"the log store of {mv.name}:{mv.version} has an unreadable file: {err}") from err

    def read_labels(self, mv: ModelVersion) -> pd.DataFrame:
        """Every stored label (last one wins per request id)."""
        dataset = self._dataset(self.label_root, mv, label_schema(mv))
        if dataset is None:
            return pd.DataFrame(columns=label_schema(mv).names)
        frame = dataset.to_table(columns=label_schema(mv).names).to_pandas()
        frame = frame.sort_values("label_timestamp", kind="stable")
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


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def _report(table: pa.Table, rejected: pd.DataFrame, ignored: list[str], files: list[str]) -> IngestReport:
    reasons: dict[str, int] = {}
    if not rejected.empty:
        for kind in rejected["reason_kind"]:
            reasons[kind] = reasons.get(kind, 0) + 1
    te = table.column(TYPE_ERRORS_COLUMN) if TYPE_ERRORS_COLUMN in table.schema.names else None
    with_te = 0 if te is None else len(te) - te.null_count
    return IngestReport(table.num_rows, len(rejected), with_te, reasons, ignored, files)


__all__ = ["DataError", "IngestReport", "LogStore", "conform"]

"""Read a Delta table's current snapshot without Delta's Spark jars.

A Delta table is a directory of Parquet files plus a transaction log
(``_delta_log/``) saying which files make up each version: files removed by an
overwrite, a delete or a compaction stay on disk until ``VACUUM``, so listing the
directory would read rows the table no longer holds. :func:`delta_snapshot`
resolves the current version with ``deltalake`` (delta-rs): its Parquet files and
each file's partition values (partition columns are not stored in the files).
The local engine reads those files with pyarrow (:func:`iter_delta_batches`), the
Spark engine with ``spark.read.parquet``.

Tables that use a reader feature that changes what a Parquet file means are
refused rather than read wrong: deletion vectors (rows deleted without rewriting
the file), column mapping (physical column names differ from the logical ones),
and any reader feature this module does not know.

Requires ``pip install deltalake`` (in the ``spark`` extra).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from monitor.errors import CorruptFileError, DataError, EngineUnavailableError

# reader features that leave the Parquet files' meaning unchanged
SUPPORTED_READER_FEATURES = frozenset({"timestampNtz", "v2Checkpoint", "vacuumProtocolCheck"})
_REFUSED = {
    "deletionVectors": "deletion vectors (rows deleted without rewriting their file)",
    "columnMapping": "column mapping (Parquet column names differ from the table's)",
}


@dataclass(frozen=True)
class DeltaFile:
    """One Parquet file of a snapshot and the values of the table's partition columns for it."""

    uri: str
    partition_values: dict[str, Any] = field(default_factory=dict)
    rows: int | None = None


@dataclass(frozen=True)
class DeltaSnapshot:
    """The files and schema of one version of a Delta table."""

    uri: str
    version: int
    schema: pa.Schema
    partition_columns: tuple[str, ...]
    files: tuple[DeltaFile, ...]

    @property
    def rows(self) -> int | None:
        """Rows in the snapshot, from the log's per-file statistics (None when one is missing)."""
        counts = [f.rows for f in self.files]
        return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "delta",
            "path": self.uri,
            "version": self.version,
            "files": len(self.files),
            "rows": self.rows,
        }


def is_delta_table(path: str | Path) -> bool:
    """Whether ``path`` is a local directory holding a Delta transaction log."""
    text = str(path)
    if "://" in text and not text.startswith("file://"):
        return False
    return (Path(text.removeprefix("file://")) / "_delta_log").is_dir()


def _check_features(uri: str, table: Any) -> None:
    protocol = table.protocol()
    features = set(protocol.reader_features or [])
    config = table.metadata().configuration or {}
    mapping = config.get("delta.columnMapping.mode", "none")
    if mapping != "none":
        features.add("columnMapping")
    refused = sorted(features - SUPPORTED_READER_FEATURES)
    if refused:
        what = "; ".join(_REFUSED.get(f, f"{f} (unknown to raiwatch)") for f in refused)
        raise DataError(
            f"cannot read the Delta table {uri!r}: it uses {what}. raiwatch reads a snapshot's "
            f"Parquet files directly and supports only the reader features "
            f"{sorted(SUPPORTED_READER_FEATURES)}; reading it anyway would give wrong rows. Rewrite "
            "the table without them (e.g. REORG TABLE ... APPLY (PURGE), or a copy with those "
            "features off), or read it into Parquet first"
        )


def delta_snapshot(path: str | Path, *, version: int | None = None) -> DeltaSnapshot:
    """The current (or ``version``) snapshot of the Delta table at ``path``.

    Raises
    ------
    DataError
        When ``path`` is not a Delta table, or the table uses a reader feature
        raiwatch does not support (deletion vectors, column mapping...).
    EngineUnavailableError
        When ``deltalake`` is not installed.
    """
    try:
        from deltalake import DeltaTable
    except ImportError as err:
        raise EngineUnavailableError(
            "reading a Delta table needs deltalake: pip install 'raiwatch[spark]' (or pip install deltalake)"
        ) from err
    uri = str(path)
    try:
        table = DeltaTable(uri, version=version)
    except Exception as err:  # delta-rs raises its own TableNotFoundError, DeltaError, OSError...
        raise DataError(f"cannot open the Delta table {uri!r}: {err}") from err
    _check_features(uri, table)
    schema = pa.schema(table.schema().to_arrow())
    partition_columns = tuple(table.metadata().partition_columns)
    actions = pa.table(table.get_add_actions(flatten=True))
    uris = table.file_uris()
    paths = actions.column("path").to_pylist()
    if len(uris) != len(paths):
        raise CorruptFileError(
            f"the Delta log of {uri!r} lists {len(paths)} add actions but {len(uris)} files"
        )
    rows: list[Any] = (
        actions.column("num_records").to_pylist()
        if "num_records" in actions.column_names
        else [None] * len(paths)
    )
    values = {
        c: actions.column(f"partition.{c}").to_pylist()
        for c in partition_columns
        if f"partition.{c}" in actions.column_names
    }
    files = []
    for i, (file_uri, relative) in enumerate(zip(uris, paths, strict=True)):
        # file_uris() lists the add actions' files in the same order; check it, since the
        # partition values are taken from the add action
        if not _same_file(file_uri, relative):
            raise CorruptFileError(
                f"the Delta log of {uri!r}: file {file_uri!r} does not match its add action {relative!r}"
            )
        files.append(
            DeltaFile(
                uri=file_uri,
                partition_values={c: values[c][i] for c in values},
                rows=None if rows[i] is None else int(rows[i]),
            )
        )
    return DeltaSnapshot(uri, int(table.version()), schema, partition_columns, tuple(files))


def _same_file(file_uri: str, relative: str) -> bool:
    from urllib.parse import unquote

    return file_uri.endswith("/" + relative) or file_uri.endswith("/" + unquote(relative))


def _open(uri: str) -> pq.ParquetFile:
    if "://" in uri and not uri.startswith("file://"):
        from pyarrow import fs

        filesystem, path = fs.FileSystem.from_uri(uri)
        return pq.ParquetFile(filesystem.open_input_file(path), pre_buffer=False)
    return pq.ParquetFile(uri.removeprefix("file://"), pre_buffer=False)


def _constant(value: Any, type_: pa.DataType, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, type=type_)
    return pa.repeat(pa.scalar(value).cast(type_), n)


def iter_delta_batches(
    snapshot: DeltaSnapshot, *, batch_rows: int = 262_144, columns: Sequence[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """Batches of the snapshot's rows, in the table's schema (partition columns filled in).

    Columns a file lacks (added to the table after it was written) are null.
    """
    wanted = [c for c in (columns if columns is not None else snapshot.schema.names)]
    wanted = [c for c in dict.fromkeys(wanted) if c in snapshot.schema.names]
    out_schema = pa.schema([snapshot.schema.field(c) for c in wanted])
    for f in snapshot.files:
        try:
            pf = _open(f.uri)
            present = set(pf.schema_arrow.names)
            read = [c for c in wanted if c in present and c not in f.partition_values]
            for batch in pf.iter_batches(batch_size=batch_rows, columns=read):
                n = batch.num_rows
                arrays = []
                for c in wanted:
                    t = out_schema.field(c).type
                    if c in f.partition_values:
                        arrays.append(_constant(f.partition_values[c], t, n))
                    elif c in present:
                        arrays.append(batch.column(c).cast(t))
                    else:
                        arrays.append(pa.nulls(n, type=t))
                yield pa.RecordBatch.from_arrays(arrays, schema=out_schema)
        except (OSError, pa.ArrowException) as err:
            raise CorruptFileError(
                f"cannot read {f.uri!r} of the Delta table {snapshot.uri!r} (version "
                f"{snapshot.version}): {err}. The file may have been vacuumed or be corrupt; "
                "nothing was stored from it"
            ) from err


__all__ = [
    "SUPPORTED_READER_FEATURES",
    "DeltaFile",
    "DeltaSnapshot",
    "delta_snapshot",
    "is_delta_table",
    "iter_delta_batches",
]

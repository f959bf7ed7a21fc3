"""Read tabular files as bounded-size batches, with clear errors for bad files.

Parquet is streamed with pyarrow (column projection, record batches), a Delta
table directory as its current snapshot's Parquet files (:mod:`monitor.ingest.delta`); CSV and
JSONL are read in pandas chunks so a column whose type changes between chunks
is still read (the conform step decides what is a type error).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeAlias

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from monitor.errors import CorruptFileError, DataError
from monitor.ingest.delta import delta_snapshot, is_delta_table, iter_delta_batches

Batch: TypeAlias = pa.RecordBatch | pd.DataFrame
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


def file_format(path: Path) -> str:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DataError(
            f"cannot read {str(path)!r}: unknown file type {path.suffix!r}; "
            f"use one of {sorted(set(SUFFIXES))}"
        )
    return fmt


def file_columns(path: str | Path) -> list[str]:
    """Column names of a file (or a Delta table directory), read from its header or schema only."""
    if is_delta_table(path):
        return list(delta_snapshot(path).schema.names)
    p = Path(path)
    if not p.is_file():
        raise DataError(f"input file {str(p)!r} does not exist; check the path")
    fmt = file_format(p)
    try:
        if fmt == "parquet":
            return list(pq.read_schema(p).names)
        if fmt == "csv":
            return list(pd.read_csv(p, nrows=0).columns)
        first = next(iter(pd.read_json(p, lines=True, chunksize=1)), pd.DataFrame())
        return list(first.columns)
    except (OSError, ValueError, pa.ArrowException) as err:
        raise CorruptFileError(f"cannot read {str(p)!r} as {fmt}: {err}") from err


def iter_file_batches(
    path: str | Path, *, batch_rows: int = 262_144, columns: Sequence[str] | None = None
) -> Iterator[Batch]:
    """Yield batches of at most ``batch_rows`` rows from a CSV, Parquet or JSONL file.

    Raises
    ------
    CorruptFileError
        When the file is truncated, corrupt or not in the format its name says.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"input file {str(p)!r} does not exist; check the path")
    fmt = file_format(p)
    cols = list(columns) if columns is not None else None
    try:
        if fmt == "parquet":
            # pre_buffer=False: pyarrow would otherwise keep every row group it has read,
            # so memory would grow with the file instead of staying at one batch.
            pf = pq.ParquetFile(p, pre_buffer=False)
            present = set(pf.schema_arrow.names)
            wanted = [c for c in cols if c in present] if cols is not None else None
            yield from pf.iter_batches(batch_size=batch_rows, columns=wanted)
        elif fmt == "csv":
            usecols = (lambda c: c in set(cols)) if cols is not None else None
            yield from pd.read_csv(p, chunksize=batch_rows, usecols=usecols, low_memory=False)
        else:
            for chunk in pd.read_json(p, lines=True, chunksize=batch_rows, dtype=False):
                yield chunk if cols is None else chunk[[c for c in cols if c in chunk.columns]]
    except (OSError, ValueError, pa.ArrowException, pd.errors.ParserError, UnicodeDecodeError) as err:
        if isinstance(err, DataError):
            raise
        raise CorruptFileError(
            f"cannot read {str(p)!r} as {fmt}: {str(err).strip()}. The file may be truncated or not {fmt}; "
            "nothing was stored from it"
        ) from err


def iter_frame_batches(data: pd.DataFrame | pa.Table, *, batch_rows: int = 262_144) -> Iterator[Batch]:
    """Yield slices of an in-memory frame or table."""
    if isinstance(data, pa.Table):
        yield from data.to_batches(max_chunksize=batch_rows)
        return
    for start in range(0, len(data), batch_rows):
        yield data.iloc[start : start + batch_rows]


def iter_batches(
    source: str | Path | pd.DataFrame | pa.Table,
    *,
    batch_rows: int = 262_144,
    columns: Sequence[str] | None = None,
) -> Iterator[Batch]:
    """Batches of a frame, a CSV/Parquet/JSONL file or a Delta table directory (its snapshot)."""
    if isinstance(source, pd.DataFrame | pa.Table):
        yield from iter_frame_batches(source, batch_rows=batch_rows)
    elif is_delta_table(source):
        yield from iter_delta_batches(delta_snapshot(source), batch_rows=batch_rows, columns=columns)
    else:
        yield from iter_file_batches(source, batch_rows=batch_rows, columns=columns)

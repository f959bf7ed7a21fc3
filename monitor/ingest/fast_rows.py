"""Vectorised validation of clean log batches (Arrow compute, no per-row Python).

Most batches are clean: typed or ISO 8601 timestamps, string request ids, no
missing predictions. :func:`clean_log_table` checks a whole batch with Arrow
compute kernels and returns it in the stored schema; the moment any rule of
:func:`monitor.ingest.log_rows.validate_logs` *might* reject a row, or a value
is in a form the kernels do not read exactly as pandas would, it returns
``None`` and the caller runs the row-by-row validation, which names every bad
row. So both paths store the same table for a clean batch, and a batch with a
bad row gets the same per-row reasons as before.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from monitor.ingest.conform import TYPE_ERRORS_COLUMN, conform
from monitor.ingest.log_rows import TimestampBounds, log_schema, logged_columns
from monitor.spec.model_version import ModelVersion

UTC_US = pa.timestamp("us", tz="UTC")


def _utc_timestamps(col: pa.Array) -> pa.Array | None:
    """The column as ``timestamp[us, UTC]`` when it is timestamps or ISO 8601 strings, else ``None``."""
    try:
        if pa.types.is_timestamp(col.type):
            if col.type.tz is None:
                col = pc.assume_timezone(col, "UTC")
            return pc.cast(col, UTC_US)  # safe cast: sub-microsecond values fall back
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            try:
                return pc.cast(col, UTC_US)  # every string carries an offset (Z, +01:00...)
            except pa.ArrowInvalid:
                naive = pc.cast(col, pa.timestamp("us"))  # none does: UTC, as pandas reads them
                return pc.cast(pc.assume_timezone(naive, "UTC"), UTC_US)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    return None  # epoch numbers and anything else: the row-by-row path decides


def _nan_as_null(table: pa.Table) -> pa.Table:
    """NaN in float columns becomes null, as a round trip through pandas makes it."""
    for i, field in enumerate(table.schema):
        if pa.types.is_floating(field.type):
            col = table.column(i)
            if pc.any(pc.is_nan(col)).as_py():
                table = table.set_column(
                    i, field, pc.if_else(pc.is_nan(col), pa.scalar(None, field.type), col)
                )
    return table


def _plausible(ts: pa.Array, bounds: TimestampBounds) -> bool:
    latest = dt.datetime.now(dt.UTC) + bounds.max_future
    lo, hi = pc.min_max(ts).values()
    return bool(lo.as_py() >= bounds.earliest and hi.as_py() <= latest)


def clean_log_table(
    mv: ModelVersion, table: pa.Table, bounds: TimestampBounds
) -> tuple[pa.Table, list[str]] | None:
    """``(rows in the stored schema, ignored columns)`` when every row is valid, else ``None``.

    ``None`` also when a value needs the row-by-row reader to be read exactly as
    it always was (epoch-number timestamps, numeric request ids, nested values,
    a caller-supplied type-error column): never a different answer, only a slower one.
    """
    names = table.schema.names
    required = [mv.id_column, mv.timestamp_column] + [s.name for s in logged_columns(mv)]
    if (
        len(set(names)) != len(names)
        or any(c not in names for c in required)
        or TYPE_ERRORS_COLUMN in names
    ):
        return None
    if table.num_rows == 0 or any(pa.types.is_nested(f.type) for f in table.schema):
        return None
    table = _nan_as_null(table)
    ids = table.column(mv.id_column).combine_chunks()
    if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)) or ids.null_count:
        return None
    ids = pc.utf8_trim_whitespace(ids).cast(pa.string())
    if pc.any(pc.equal(pc.utf8_length(ids), 0)).as_py() or pc.count_distinct(ids).as_py() != len(
        ids
    ):
        return None  # empty or repeated ids: rejected row by row, with reasons
    ts = _utc_timestamps(table.column(mv.timestamp_column).combine_chunks())
    if ts is None or ts.null_count or not _plausible(ts, bounds):
        return None
    if mv.prediction is not None:
        pred = table.column(mv.prediction)
        if pred.null_count or (mv.task == "regression" and not (
                pa.types.is_integer(pred.type) or pa.types.is_floating(pred.type))):  # fmt: skip
            return None
    converted = conform(table, logged_columns(mv), what=f"inference log for {mv.name}:{mv.version}")
    columns = {mv.id_column: ids, mv.timestamp_column: ts}
    for name in converted.schema.names:
        columns[name] = converted.column(name)
    if TYPE_ERRORS_COLUMN not in columns:
        columns[TYPE_ERRORS_COLUMN] = pa.nulls(table.num_rows, pa.string())
    schema = log_schema(mv)
    out = pa.table([columns[f.name] for f in schema], schema=schema)
    ignored = sorted(str(c) for c in names if c not in required)
    return out, ignored

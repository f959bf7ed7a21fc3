"""Bring any tabular input to the canonical column types the profiles read.

Canonical types: numeric and datetime columns become ``float64`` (datetimes as
epoch seconds), categorical and boolean columns become strings (booleans as
``"true"``/``"false"``). A value that cannot be read as its declared type
becomes null and is recorded in the ``_raiwatch_type_errors`` column (a
comma-separated list of the offending columns for that row), so data-quality
signals can count type errors instead of silently losing them. Objects and
lists (from JSON) are type errors in every column type, never stored as their
Python text.

Typed inputs (a float column declared numeric) take a zero-copy fast path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from monitor.errors import DataError
from monitor.spec.model_version import FeatureSpec

TYPE_ERRORS_COLUMN = "_raiwatch_type_errors"
_NULL_STRINGS = frozenset({"", "nan", "none", "null", "na", "n/a"})
_TRUE = frozenset({"true", "1", "yes", "y", "t", "1.0"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "0.0"})


def profile_kind(spec: FeatureSpec) -> str:
    """``numeric`` or ``categorical``: how a declared column is profiled."""
    return "numeric" if spec.type in ("numeric", "datetime") else "categorical"


@dataclass(frozen=True)
class _Converted:
    array: pa.Array
    type_errors: np.ndarray | None  # bool mask, None when there are none


def _arrow_or_series(series: pd.Series) -> pa.Array | pd.Series:
    """Arrow (fast paths) when the column has one type, else the pandas series."""
    try:
        return pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return series


def _as_series(col: pa.Array | pa.ChunkedArray | pd.Series) -> pd.Series:
    if isinstance(col, pd.Series):
        return col.reset_index(drop=True)
    return col.to_pandas()


def _null_like(s: pd.Series) -> np.ndarray:
    isna = s.isna().to_numpy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        text = s.astype(str).str.strip().str.lower()
        isna = isna | text.isin(_NULL_STRINGS).to_numpy()
    return isna


def _numeric(col: pa.Array | pd.Series) -> _Converted:
    if isinstance(col, pa.Array) and (
        pa.types.is_floating(col.type) or pa.types.is_integer(col.type) or pa.types.is_boolean(col.type)
    ):
        return _Converted(col.cast(pa.float64()), None)
    if isinstance(col, pd.Series) and (
        pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)
    ):
        return _Converted(pa.array(col.astype("float64").to_numpy(), pa.float64()), None)
    s = _as_series(col)
    parsed = pd.to_numeric(s.map(lambda v: v.strip() if isinstance(v, str) else v), errors="coerce")
    bad = parsed.isna().to_numpy() & ~_null_like(s)
    # pd.to_numeric turns bools into floats; a non-null that became NaN is a type error.
    values = parsed.astype("float64").to_numpy()
    return _Converted(pa.array(values, pa.float64(), from_pandas=True), bad if bad.any() else None)


def _datetime(col: pa.Array | pd.Series) -> _Converted:
    if isinstance(col, pa.Array) and pa.types.is_timestamp(col.type):
        # any unit: a cast to µs would refuse nanosecond values that are not whole µs
        per_second = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[col.type.unit]
        ticks = pc.cast(col.cast(pa.int64()), pa.float64(), safe=False)  # ns beyond 2**53: rounded
        return _Converted(pc.divide(ticks, per_second), None)
    if isinstance(col, pa.Array) and (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
        # Numbers are epoch seconds (as they are stored), not pandas' nanoseconds.
        return _Converted(col.cast(pa.float64()), None)
    if isinstance(col, pd.Series) and pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return _Converted(pa.array(col.astype("float64").to_numpy(), pa.float64(), from_pandas=True), None)
    s = _as_series(col)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        parsed = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
    else:
        parsed = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna().to_numpy() & ~_null_like(s)
    secs = (parsed - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds().to_numpy()
    return _Converted(pa.array(secs, pa.float64(), from_pandas=True), bad if bad.any() else None)


def _is_structured(v: object) -> bool:
    return isinstance(v, dict | list | tuple | set)


def _category_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    return str(v)


def _categorical(col: pa.Array | pd.Series) -> _Converted:
    if isinstance(col, pa.Array):
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            return _Converted(col.cast(pa.string()), None)
        if pa.types.is_dictionary(col.type) and pa.types.is_string(col.type.value_type):
            return _Converted(col, None)
        if pa.types.is_integer(col.type):
            return _Converted(col.cast(pa.string()), None)
    s = _as_series(col)
    isna = _null_like(s)
    values = s.tolist()
    # an object or a list is not one category: a type error, never its Python repr
    nested = np.array([_is_structured(v) for v in values], dtype=bool)
    text = [
        None if na or bad else _category_text(v)
        for v, na, bad in zip(values, isna, nested, strict=True)
    ]
    return _Converted(pa.array(text, pa.string()), nested if nested.any() else None)


def _boolean(col: pa.Array | pd.Series) -> _Converted:
    if isinstance(col, pa.Array) and pa.types.is_boolean(col.type):
        out = pc.if_else(col, "true", "false")
        return _Converted(out.cast(pa.string()), None)
    s = _as_series(col)
    nested = s.map(_is_structured).to_numpy(dtype=bool)
    if nested.any():
        s = s.where(~nested, "<structured>")  # neither true nor false: a type error
    isna = _null_like(s)
    text = s.map(_category_text).str.strip().str.lower()
    is_true = text.isin(_TRUE).to_numpy()
    is_false = text.isin(_FALSE).to_numpy()
    bad = ~isna & ~is_true & ~is_false
    values = [
        "true" if t and not na else "false" if f and not na else None
        for t, f, na in zip(is_true, is_false, isna, strict=True)
    ]
    return _Converted(pa.array(values, pa.string()), bad if bad.any() else None)


_CONVERTERS = {
    "numeric": _numeric,
    "datetime": _datetime,
    "categorical": _categorical,
    "boolean": _boolean,
    "text": _categorical,
}


def missing_columns_error(what: str, missing: Sequence[str], available: Sequence[str]) -> DataError:
    return DataError(
        f"{what} is missing required column(s) {sorted(missing)}; available columns: "
        f"{sorted(available)}. Rename the columns in the file or fix the model-version schema."
    )


def conform(
    data: pa.RecordBatch | pa.Table | pd.DataFrame,
    columns: Sequence[FeatureSpec],
    *,
    what: str = "input",
) -> pa.Table:
    """Return ``columns`` of ``data`` in canonical types plus a type-error column.

    Raises
    ------
    DataError
        When a declared column is absent (the message lists the available ones).
    """
    names = list(data.columns) if isinstance(data, pd.DataFrame) else data.schema.names
    missing = [c.name for c in columns if c.name not in names]
    if missing:
        raise missing_columns_error(what, missing, names)
    out: dict[str, pa.Array] = {}
    errors: list[tuple[str, np.ndarray]] = []
    for spec in columns:
        raw: pa.Array | pd.Series
        if isinstance(data, pd.DataFrame):
            series = data[spec.name]
            if isinstance(series, pd.DataFrame):
                raise DataError(f"{what} has the column {spec.name!r} more than once; keep one")
            raw = _arrow_or_series(series)
        else:
            col = data.column(spec.name)
            raw = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
            if pa.types.is_null(raw.type):
                raw = pa.nulls(len(raw), pa.float64() if spec.type == "numeric" else pa.string())
        conv = _CONVERTERS[spec.type](raw)
        out[spec.name] = conv.array
        if conv.type_errors is not None:
            errors.append((spec.name, conv.type_errors))
    existing = None
    if TYPE_ERRORS_COLUMN in names:
        existing = (
            data[TYPE_ERRORS_COLUMN].astype(object).where(data[TYPE_ERRORS_COLUMN].notna(), None).tolist()
            if isinstance(data, pd.DataFrame)
            else data.column(TYPE_ERRORS_COLUMN).to_pylist()
        )
    if errors or existing is not None:
        n = len(data)
        lists: list[list[str]] = [[] for _ in range(n)]
        if existing is not None:
            for i, v in enumerate(existing):
                if v:
                    lists[i].extend(str(v).split(","))
        for name, mask in errors:
            for i in np.flatnonzero(mask):
                lists[i].append(name)
        out[TYPE_ERRORS_COLUMN] = pa.array([",".join(x) if x else None for x in lists], pa.string())
    return pa.table(out)


def type_error_masks(table: pa.Table | pa.RecordBatch) -> dict[str, np.ndarray]:
    """Per column, a boolean mask of rows whose value had the wrong type."""
    if TYPE_ERRORS_COLUMN not in table.schema.names:
        return {}
    col = table.column(TYPE_ERRORS_COLUMN)
    if col.null_count == len(col):
        return {}
    masks: dict[str, np.ndarray] = {}
    for i, v in enumerate(col.to_pylist()):
        if v:
            for name in v.split(","):
                if name not in masks:
                    masks[name] = np.zeros(len(col), dtype=bool)
                masks[name][i] = True
    return masks

"""Select the rows of a window by time, the same way on every engine.

Rows with ``start <= t < end`` are kept. Timestamps are compared as integers in
the column's own unit (seconds to nanoseconds): a bound is rounded *up* to that
unit, which keeps exactly the rows a comparison at full precision would keep.
Time-zone-naive timestamps are read as UTC wall-clock times, like naive bounds;
time-zone-aware ones are compared as instants. Rows whose time is null are never
in a window.

    >>> import pyarrow as pa
    >>> t = pa.array([0, 1_500, 2_000, None], pa.timestamp("ms"))  # 0 s, 1.5 s, 2 s, null
    >>> batch = pa.RecordBatch.from_arrays([t], names=["ts"])
    >>> in_window(batch, "ts", "1970-01-01 00:00:01", "1970-01-01 00:00:02").num_rows
    1
    >>> epoch_bound("1970-01-01 00:00:00.0000015", "us")  # 1.5 µs rounds up to 2 µs
    2
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from monitor.errors import DataError

_PER_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def epoch_ns(t: Any) -> int:
    """``t`` (text, datetime or Timestamp; naive means UTC) as nanoseconds since the epoch."""
    ts = pd.Timestamp(t)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value)


def epoch_bound(t: Any, unit: str) -> int:
    """``t`` in ``unit`` since the epoch, rounded up (so ``x >= bound`` iff ``x >= t``)."""
    per = _PER_UNIT_NS[unit]
    return -(-epoch_ns(t) // per)


def _no_timestamp(column: str, type_: object) -> DataError:
    return DataError(
        f"cannot select the window: time column {column!r} has type {type_}, not a timestamp; "
        "store it as a timestamp (any unit, with or without a time zone) or choose another time_column"
    )


def in_window(batch: Any, time_column: str, start: Any = None, end: Any = None) -> Any:
    """The rows of an Arrow batch or pandas frame with ``start <= time_column < end``."""
    if isinstance(batch, pd.DataFrame):
        if time_column not in batch.columns:
            raise DataError(
                f"cannot select the window: no time column {time_column!r} in the input"
            )
        try:
            ns = pd.to_datetime(batch[time_column], utc=True, format="mixed")
        except (ValueError, TypeError) as err:
            raise _no_timestamp(time_column, batch[time_column].dtype) from err
        keep = ns.notna()
        values = ns.astype("int64")
        if start is not None:
            keep &= values >= epoch_ns(start)
        if end is not None:
            keep &= values < epoch_ns(end)
        return batch[keep.to_numpy()]
    if time_column not in batch.schema.names:
        raise DataError(f"cannot select the window: no time column {time_column!r} in the input")
    column = batch.column(time_column)
    if not pa.types.is_timestamp(column.type):
        raise _no_timestamp(time_column, column.type)
    values = column.cast(pa.int64())  # stored values: UTC instants, or UTC wall clock when naive
    mask = pc.is_valid(values)
    if start is not None:
        mask = pc.and_(mask, pc.greater_equal(values, epoch_bound(start, column.type.unit)))
    if end is not None:
        mask = pc.and_(mask, pc.less(values, epoch_bound(end, column.type.unit)))
    return batch.filter(mask)


__all__ = ["epoch_bound", "epoch_ns", "in_window"]

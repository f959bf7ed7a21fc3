"""Row-level validation of inference logs and labels before they are stored.

A file or batch that lacks a required column is rejected as a whole with a
:class:`DataError` naming the missing and the available columns. Otherwise each
row is judged on its own: rows without a request id, with an unreadable
timestamp, without a prediction, or repeating a request id of the same batch
are quarantined with a reason. Feature values of the wrong type do not reject
the row: they are stored as null and flagged, so data-quality signals count them.

Timestamps must be plausible (:class:`TimestampBounds`: by default not before
2000 and not more than one day in the future) and a batch uses one format:
epoch numbers *or* date strings. Rows in the other format are quarantined with
a reason instead of being read as 1970 dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from monitor.ingest.conform import TYPE_ERRORS_COLUMN, conform, missing_columns_error
from monitor.spec.model_version import FeatureSpec, ModelVersion

LABEL_COLUMN = "label"
LABEL_TS_COLUMN = "label_timestamp"


@dataclass(frozen=True)
class TimestampBounds:
    """Plausible timestamps: not before ``earliest``, not after now + ``max_future``.

    >>> TimestampBounds().earliest.isoformat()
    '2000-01-01T00:00:00+00:00'
    """

    earliest: dt.datetime = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    max_future: dt.timedelta = dt.timedelta(days=1)

    def implausible(self, ts: pd.Series) -> np.ndarray:
        """Mask of parsed timestamps outside the bounds (nulls are not flagged)."""
        latest = pd.Timestamp(dt.datetime.now(dt.UTC) + self.max_future)
        return (ts.notna() & ((ts < pd.Timestamp(self.earliest)) | (ts > latest))).to_numpy()

    def reason(self, column: str) -> str:
        return (
            f"implausible_timestamp: {column!r} is before {self.earliest.date().isoformat()} or more "
            f"than {self.max_future} in the future; fix the sender's clock or units, or widen the "
            "settings timestamp_earliest / timestamp_max_future_s"
        )


def _is_structured(v: object) -> bool:
    return isinstance(v, dict | list | tuple | set)


_PLAIN_KINDS = frozenset({"string", "integer", "floating", "mixed-integer-float", "boolean", "empty",
                          "datetime", "datetime64", "decimal", "date", "time"})  # fmt: skip


def _structured(values: pd.Series) -> np.ndarray:
    """Mask of objects and lists (a C-speed type check first: plain columns skip the scan)."""
    if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) in _PLAIN_KINDS:
        return np.zeros(len(values), dtype=bool)
    return values.map(_is_structured).to_numpy(dtype=bool)


def _arrow_type(spec: FeatureSpec) -> pa.DataType:
    return pa.float64() if spec.type in ("numeric", "datetime") else pa.string()


def logged_columns(mv: ModelVersion) -> list[FeatureSpec]:
    """Features (text included) and model outputs, as stored."""
    return list(mv.features) + mv.output_columns()


def log_schema(mv: ModelVersion) -> pa.Schema:
    fields = [
        pa.field(mv.id_column, pa.string()),
        pa.field(mv.timestamp_column, pa.timestamp("us", tz="UTC")),
    ]
    fields += [pa.field(s.name, _arrow_type(s)) for s in logged_columns(mv)]
    fields.append(pa.field(TYPE_ERRORS_COLUMN, pa.string()))
    return pa.schema(fields)


def label_schema(mv: ModelVersion) -> pa.Schema:
    label_type = pa.float64() if mv.task == "regression" else pa.string()
    return pa.schema(
        [
            pa.field("request_id", pa.string()),
            pa.field(LABEL_COLUMN, label_type),
            pa.field(LABEL_TS_COLUMN, pa.timestamp("us", tz="UTC")),
        ]
    )


def _row_json(frame: pd.DataFrame, mask: np.ndarray) -> list[str]:
    return [str(s) for s in frame.loc[mask].to_json(orient="records", lines=True, default_handler=str).splitlines()]


def _reject(frame: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    mask = reasons.notna().to_numpy()
    if not mask.any():
        return pd.DataFrame(columns=["reason", "reason_kind", "row"])
    kinds = reasons[mask].str.split(":", n=1).str[0]
    return pd.DataFrame({"reason": reasons[mask].to_numpy(), "reason_kind": kinds.to_numpy(), "row": _row_json(frame, mask)})


def _mixed_formats(values: pd.Series) -> np.ndarray:
    """Rows whose timestamp is a number while the batch's first one is a string, or vice versa."""
    if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) in _PLAIN_KINDS:
        return np.zeros(len(values), dtype=bool)  # one kind of value: nothing mixed
    is_number = values.map(lambda v: isinstance(v, int | float | np.number) and not isinstance(v, bool))
    present = values.notna().to_numpy(dtype=bool)
    is_str = values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    kinds = np.where(is_number.to_numpy(dtype=bool), 1, np.where(is_str, 2, 0))
    first = next((k for k, p in zip(kinds, present, strict=True) if p and k), 0)
    return present & (kinds != 0) & (kinds != first)


def _timestamps(values: pd.Series) -> pd.Series:
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) == "string":
        return _parse_text_times(values)
    if values.dtype == object:
        nested = _structured(values)
        if nested.any():
            values = values.where(~nested, None)
        numbers = values.map(lambda v: isinstance(v, int | float | np.number) and not isinstance(v, bool))
        if numbers.all() and values.notna().all():
            values = pd.to_numeric(values)
        elif numbers.any():
            out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
            n = numbers.to_numpy(dtype=bool)
            out[n] = pd.to_datetime(pd.to_numeric(values[n]), unit="s", errors="coerce", utc=True)
            out[~n] = _parse_text_times(values[~n])
            return out
    if pd.api.types.is_datetime64_any_dtype(values):
        ts = values if getattr(values.dt, "tz", None) is not None else values.dt.tz_localize("UTC")
        return ts.dt.tz_convert("UTC")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        # Numbers are Unix epoch seconds; pandas alone would read them as nanoseconds (1970).
        return pd.to_datetime(values, unit="s", errors="coerce", utc=True)
    return _parse_text_times(values)


def _parse_text_times(values: pd.Series) -> pd.Series:
    """ISO 8601 strings on the fast path; other date formats parsed one by one."""
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
    retry = (parsed.isna() & values.notna()).to_numpy()
    if retry.any():
        parsed[retry] = pd.to_datetime(values[retry], errors="coerce", utc=True, format="mixed")
    return parsed


def _first_reason(reasons: pd.Series, mask: np.ndarray, text: str) -> None:
    if not mask.any():
        return
    free = reasons.isna().to_numpy() & mask
    reasons[free] = text


def validate_logs(
    mv: ModelVersion, frame: pd.DataFrame, *, bounds: TimestampBounds | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Split ``frame`` into stored rows, quarantined rows and ignored columns."""
    bounds = bounds or TimestampBounds()
    required = [mv.id_column, mv.timestamp_column] + [s.name for s in logged_columns(mv)]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise missing_columns_error(f"inference log for {mv.name}:{mv.version}", missing, list(frame.columns))
    ignored = sorted(str(c) for c in frame.columns if c not in required and c != TYPE_ERRORS_COLUMN)
    frame = frame.reset_index(drop=True)
    reasons = pd.Series([None] * len(frame), dtype=object)
    ids = frame[mv.id_column]
    id_text = ids.astype(str).str.strip()
    _first_reason(reasons, (ids.isna() | (id_text == "")).to_numpy(), f"missing_request_id: no value in {mv.id_column!r}")
    _first_reason(
        reasons, _structured(ids),
        f"invalid_request_id: {mv.id_column!r} is an object or a list; send a string or a number",
    )  # fmt: skip
    ts_col = mv.timestamp_column
    _first_reason(
        reasons, _mixed_formats(frame[ts_col]),
        f"mixed_timestamp_format: {ts_col!r} mixes epoch numbers and date strings in one batch; "
        "send one format per batch (ISO 8601 strings are safest)",
    )  # fmt: skip
    ts = _timestamps(frame[ts_col])
    _first_reason(reasons, ts.isna().to_numpy(), f"invalid_timestamp: {ts_col!r} is missing or not a date")
    _first_reason(reasons, bounds.implausible(ts), bounds.reason(ts_col))
    pred = frame[mv.prediction] if mv.prediction is not None else None
    if pred is not None:
        _first_reason(reasons, pred.isna().to_numpy(), f"missing_prediction: no value in {mv.prediction!r}")
        _first_reason(
            reasons, _structured(pred),
            f"invalid_prediction: {mv.prediction!r} is an object or a list; send one value",
        )  # fmt: skip
    if pred is not None and mv.task == "regression":
        bad = pd.to_numeric(pred, errors="coerce").isna() & pred.notna()
        _first_reason(reasons, bad.to_numpy(), f"invalid_prediction: {mv.prediction!r} is not a number")
    # Only rows that are otherwise valid compete for a request id: a rejected first
    # occurrence does not make a later valid row a duplicate.
    valid = reasons.isna().to_numpy()
    dup = np.zeros(len(frame), dtype=bool)
    dup[valid] = id_text[valid].duplicated(keep="first").to_numpy()
    _first_reason(reasons, dup, "duplicate_request_id: the same request id appears earlier in this batch")
    keep = reasons.isna().to_numpy()
    rejected = _reject(frame, reasons)
    good = frame.loc[keep].reset_index(drop=True)
    table = conform(good, logged_columns(mv), what=f"inference log for {mv.name}:{mv.version}")
    out = table.to_pandas()
    out.insert(0, mv.timestamp_column, ts[keep].reset_index(drop=True).astype("datetime64[us, UTC]"))
    out.insert(0, mv.id_column, id_text[keep].reset_index(drop=True))
    if TYPE_ERRORS_COLUMN not in out:
        out[TYPE_ERRORS_COLUMN] = pd.Series([None] * len(out), dtype=object)
    return out[log_schema(mv).names], rejected, ignored


def validate_labels(
    mv: ModelVersion, frame: pd.DataFrame, *, bounds: TimestampBounds | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Labels: ``request_id`` (or the id column), ``label`` (or the target), optional timestamp.

    A ``label_timestamp`` that is present but unreadable or implausible rejects the
    row (it is never replaced by "now"); an absent one is the arrival time.
    """
    bounds = bounds or TimestampBounds()
    id_col = "request_id" if "request_id" in frame.columns else mv.id_column
    label_col = LABEL_COLUMN if LABEL_COLUMN in frame.columns else (mv.target or LABEL_COLUMN)
    missing = [c for c in (id_col, label_col) if c not in frame.columns]
    if missing:
        raise missing_columns_error(
            f"labels for {mv.name}:{mv.version} (need 'request_id' and 'label' or {mv.target!r})",
            missing,
            list(frame.columns),
        )
    ignored = sorted(str(c) for c in frame.columns if c not in (id_col, label_col, LABEL_TS_COLUMN))
    frame = frame.reset_index(drop=True)
    reasons = pd.Series([None] * len(frame), dtype=object)
    ids = frame[id_col]
    id_text = ids.astype(str).str.strip()
    _first_reason(reasons, (ids.isna() | (id_text == "")).to_numpy(), "missing_request_id: no request id")
    _first_reason(reasons, _structured(ids), "invalid_request_id: an object or a list; send a string")
    labels = frame[label_col]
    _first_reason(reasons, labels.isna().to_numpy(), "missing_label: no label value")
    _first_reason(reasons, _structured(labels), "invalid_label: an object or a list; send one value")
    if mv.task == "regression":
        values = pd.to_numeric(labels, errors="coerce")
        _first_reason(reasons, (values.isna() & labels.notna()).to_numpy(), "invalid_label: a regression label must be a number")
        label_out = values
    else:
        label_out = labels.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
        if mv.classes:
            unknown = ~label_out.isin(mv.classes) & labels.notna()
            _first_reason(reasons, unknown.to_numpy(), f"invalid_label: not one of the classes {list(mv.classes)}")
    now = pd.Timestamp(dt.datetime.now(dt.UTC))
    if LABEL_TS_COLUMN in frame.columns:
        raw = frame[LABEL_TS_COLUMN]
        ts = _timestamps(raw)
        absent = raw.isna().to_numpy()
        _first_reason(
            reasons, ts.isna().to_numpy() & ~absent,
            f"invalid_label_timestamp: {LABEL_TS_COLUMN!r} is not a date; send ISO 8601 or leave it out",
        )  # fmt: skip
        _first_reason(reasons, bounds.implausible(ts), bounds.reason(LABEL_TS_COLUMN))
        ts = ts.fillna(now)
    else:
        ts = pd.Series([now] * len(frame))
    keep = reasons.isna().to_numpy()
    out = pd.DataFrame(
        {
            "request_id": id_text[keep].to_numpy(),
            LABEL_COLUMN: label_out[keep].to_numpy(),
            LABEL_TS_COLUMN: pd.to_datetime(ts[keep], utc=True).astype("datetime64[us, UTC]").to_numpy(),
        }
    )
    out[LABEL_TS_COLUMN] = pd.to_datetime(out[LABEL_TS_COLUMN], utc=True).astype("datetime64[us, UTC]")
    return out, _reject(frame, reasons), ignored

"""HTTP ingestion of inference logs and labels: parse, validate, then write.

A batch is JSON (an array of row objects, or ``{"rows": [...]}``), NDJSON
(one object per line, ``Content-Type: application/x-ndjson``) or an Arrow IPC
stream (``Content-Type: application/vnd.apache.arrow.stream``, the fastest). The whole batch
is validated before anything is written: one bad row rejects the batch with
every row's reason (HTTP 422), so a rejected batch leaves nothing behind.

Speed: JSON is parsed with ``orjson`` into columns and an Arrow body is read
without copying; a clean log batch is then checked with Arrow compute kernels
(:func:`monitor.ingest.fast_rows.clean_log_table`) and validated once. Only a
batch that may hold a bad row, or values of mixed kinds, goes through the
row-by-row validation that names each bad row. Concurrent batches are published
by one group commit (:meth:`monitor.ingest.logstore.LogStore.append_logs`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

from monitor.errors import DataError
from monitor.ingest.fast_rows import clean_log_table
from monitor.ingest.log_rows import log_schema, validate_labels, validate_logs
from monitor.ingest.logstore import IngestReport, LogStore
from monitor.spec.model_version import ModelVersion

ROW_COLUMN = "_raiwatch_row"
MAX_REASONS = 1000
Kind = Literal["logs", "labels"]


class BatchRejected(Exception):
    """The batch cannot be stored; ``errors`` says why, per row where possible."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


@dataclass(frozen=True)
class IngestResult:
    """What was stored."""

    accepted: int
    ignored_columns: list[str] = field(default_factory=list)
    with_type_errors: int = 0
    duplicates: int = 0
    request_ids: list[str] = field(default_factory=list)


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8") if body else ""
    except UnicodeDecodeError as err:
        line = body[: err.start].count(b"\n") + 1
        raise BatchRejected(
            f"body is not valid UTF-8 (byte {err.start}, line {line}: {err.reason}); nothing was "
            "stored; encode the batch as UTF-8 and resend it"
        ) from None


def _loads(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise BatchRejected(
            f"{where} is not JSON ({err.msg} at line {err.lineno}); send an array of rows, "
            "{'rows': [...]}, or NDJSON with Content-Type application/x-ndjson"
        ) from None
    except RecursionError:
        raise BatchRejected(
            f"{where} nests JSON too deeply; a row is one flat object of column values"
        ) from None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _check_text(rows: list[dict[str, Any]]) -> None:
    """Reject strings that cannot be stored as UTF-8 (lone surrogates from ``\\ud800`` escapes)."""
    bad: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        for key, value in row.items():
            for text in (key, value) if isinstance(value, str) else (key,):
                try:
                    str(text).encode("utf-8")
                except UnicodeEncodeError:
                    bad.append({"row": i, "reason": f"invalid_text: column {str(key)!r} holds a "
                                "lone UTF-16 surrogate (\\ud800-\\udfff escape); send valid Unicode"})
                    break
    if bad:
        raise BatchRejected(
            f"{len(bad)} row(s) hold text that is not valid Unicode; nothing was stored",
            bad[:MAX_REASONS],
        )


def parse_rows(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """Rows of a JSON or NDJSON body (``BatchRejected`` names the bad line).

    Invalid UTF-8, JSON nested too deeply and lone surrogates are rejected
    (HTTP 422), never replaced or stored.
    """
    text = _decode(body)
    rows: Any
    if "ndjson" in content_type or "jsonl" in content_type:
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                rows.append(_loads(line, f"line {number}"))
    else:
        data = _loads(text, "body") if text.strip() else None
        rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not rows:
        raise BatchRejected("no rows; send a non-empty array of row objects")
    bad = [i for i, r in enumerate(rows) if not isinstance(r, dict)]
    if bad:
        raise BatchRejected(
            "every row must be a JSON object",
            [
                {"row": i, "reason": "not_an_object: expected a JSON object"}
                for i in bad[:MAX_REASONS]
            ],
        )
    if _SURROGATE_ESCAPE.search(text):  # only \\ud800-\\udfff escapes can make lone surrogates
        _check_text(rows)
    return rows


ARROW_STREAM = "application/vnd.apache.arrow.stream"


def _fast_rows(body: bytes, content_type: str) -> list[Any] | None:
    """The rows of a well-formed JSON / NDJSON body parsed by orjson, or ``None`` (then the
    standard parser runs and names the problem: bad UTF-8, NaN literals, deep nesting...)."""
    try:
        if "ndjson" in content_type or "jsonl" in content_type:
            return [orjson.loads(line) for line in body.splitlines() if line.strip()]
        data = orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError:
        return None
    rows = data.get("rows") if isinstance(data, dict) else data
    return rows if isinstance(rows, list) else None


def _columns(rows: list[dict[str, Any]]) -> pa.Table | None:
    """Rows as an Arrow table, one typed column per key (keys of every row), or ``None``
    when a column mixes kinds (then pandas reads the rows, as it always did)."""
    first = rows[0].keys()
    if all(map(first.__eq__, map(dict.keys, rows))):  # the usual batch: every row has the same keys
        keys = list(first)
        values = list(zip(*map(itemgetter(*keys), rows), strict=True)) if len(keys) > 1 else [
            [row[keys[0]] for row in rows]] if keys else []  # fmt: skip
    else:
        keys = list(dict.fromkeys(k for row in rows for k in row))
        values = [[row.get(k) for row in rows] for k in keys]
    try:
        arrays = [pa.array(column) for column in values]
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, TypeError):
        return None
    return pa.table(arrays, names=[str(k) for k in keys])


_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def _arrow_ndjson(body: bytes, mv: ModelVersion) -> pa.Table | None:
    """An NDJSON body read by Arrow's JSON reader (C++, off the GIL), or ``None`` when the
    body needs the reference parser: invalid UTF-8, surrogate escapes, a column that
    changes kind, nested values, no rows. Text columns of ``mv`` are read as text, so
    the reader never guesses dates in them."""
    if _SURROGATE_ESCAPE_BYTES.search(body):
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    text = [mv.id_column, mv.timestamp_column] + [
        f.name for f in mv.features if f.type in ("categorical", "text", "datetime")]  # fmt: skip
    options = pa_json.ParseOptions(
        explicit_schema=pa.schema([(name, pa.string()) for name in dict.fromkeys(text)]),
        unexpected_field_behavior="infer",
    )
    try:
        table = pa_json.read_json(pa.BufferReader(body), parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if table.num_rows == 0 or any(pa.types.is_nested(f.type) for f in table.schema):
        return None
    return table


def parse_batch(body: bytes, content_type: str, mv: ModelVersion | None = None) -> pa.Table | pd.DataFrame:
    """The rows of a JSON, NDJSON or Arrow IPC stream body (``BatchRejected`` if unreadable).

    An Arrow table when the columns are typed (Arrow bodies, and JSON whose
    columns each hold one kind of value); otherwise a pandas frame. With ``mv``
    (which names the text columns) an NDJSON body is read by Arrow's JSON reader.
    """
    if mv is not None and ("ndjson" in content_type or "jsonl" in content_type):
        table = _arrow_ndjson(body, mv)
        if table is not None:
            return table
    if ARROW_STREAM not in content_type:
        rows = _fast_rows(body, content_type)
        if rows is None or not rows or not all(isinstance(r, dict) for r in rows):
            rows = parse_rows(body, content_type)  # the reference parser and its messages
            return pd.DataFrame.from_records(rows)
        table = _columns(rows)
        return table if table is not None else pd.DataFrame.from_records(rows)
    try:
        table = pa.ipc.open_stream(pa.BufferReader(body)).read_all()
    except (pa.ArrowInvalid, pa.ArrowException, OSError, ValueError) as err:
        raise BatchRejected(
            f"body is not an Arrow IPC stream ({err}); write it with pyarrow.ipc.new_stream "
            f"and send Content-Type {ARROW_STREAM}"
        ) from None
    if table.num_rows == 0:
        raise BatchRejected("no rows; send a non-empty Arrow IPC stream")
    nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
    if nested:
        raise BatchRejected(f"columns {nested} hold lists or structs; send one value per cell")
    return table


def parse_frame(body: bytes, content_type: str) -> pd.DataFrame:
    """The rows of a JSON, NDJSON or Arrow IPC stream body as a pandas frame."""
    batch = parse_batch(body, content_type)
    return batch.to_pandas() if isinstance(batch, pa.Table) else batch


def _row_reasons(rejected: pd.DataFrame) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for reason, row_json in zip(rejected["reason"], rejected["row"], strict=True):
        row = json.loads(row_json)
        errors.append({"row": int(row.get(ROW_COLUMN, -1)), "reason": str(reason)})
    return sorted(errors, key=lambda e: int(e["row"]))[:MAX_REASONS]


def ingest_rows(
    log_store: LogStore, mv: ModelVersion, rows: list[dict[str, Any]] | pd.DataFrame | pa.Table,
    kind: Kind, *, source: str,
) -> IngestResult:
    """Validate every row, then store the batch; ``BatchRejected`` stores nothing."""
    if kind == "logs" and isinstance(rows, pa.Table):
        clean = clean_log_table(mv, rows, log_store.bounds)
        if clean is not None:  # every row valid: checked by Arrow kernels, validated once
            table, ignored = clean
            return _result(log_store.append_logs(mv, table), ignored)
    if isinstance(rows, pa.Table):
        rows = rows.to_pandas()
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(rows)
    frame[ROW_COLUMN] = range(len(frame))
    validate = validate_logs if kind == "logs" else validate_labels
    try:
        accepted, rejected, ignored = validate(mv, frame, bounds=log_store.bounds)
    except DataError as err:
        raise BatchRejected(str(err)) from None
    if len(rejected):
        raise BatchRejected(
            f"{len(rejected)} of {len(frame)} rows are invalid; nothing was stored; "
            "fix the rows listed in 'errors' and resend the batch",
            _row_reasons(rejected),
        )
    ignored = [c for c in ignored if c != ROW_COLUMN]
    if kind == "logs":
        table = pa.Table.from_pandas(accepted, schema=log_schema(mv), preserve_index=False)
        return _result(log_store.append_logs(mv, table), ignored)
    report = log_store.ingest_labels_frame(mv, frame.drop(columns=[ROW_COLUMN]), source=source)
    return _result(report, ignored)


def _result(report: IngestReport, ignored: list[str]) -> IngestResult:
    return IngestResult(
        accepted=report.accepted,
        ignored_columns=ignored,
        with_type_errors=report.with_type_errors,
        duplicates=report.duplicates,
        request_ids=report.request_ids,
    )

"""HTTP ingestion of inference logs and labels: parse, validate, then write.

A batch is JSON (an array of row objects, or ``{"rows": [...]}``) or NDJSON
(one object per line, ``Content-Type: application/x-ndjson``). The whole batch
is validated before anything is written: one bad row rejects the batch with
every row's reason (HTTP 422), so a rejected batch leaves nothing behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from monitor.errors import DataError
from monitor.ingest.log_rows import validate_labels, validate_logs
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


def parse_rows(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """Rows of a JSON or NDJSON body (``BatchRejected`` names the bad line)."""
    text = body.decode("utf-8", errors="replace") if body else ""
    rows: Any
    if "ndjson" in content_type or "jsonl" in content_type:
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise BatchRejected(f"line {number} is not JSON: {err.msg}") from None
    else:
        try:
            data = json.loads(text) if text.strip() else None
        except json.JSONDecodeError as err:
            raise BatchRejected(
                f"body is not JSON ({err.msg} at line {err.lineno}); send an array of rows, "
                "{'rows': [...]}, or NDJSON with Content-Type application/x-ndjson"
            ) from None
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
    return rows


def _row_reasons(rejected: pd.DataFrame) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for reason, row_json in zip(rejected["reason"], rejected["row"], strict=True):
        row = json.loads(row_json)
        errors.append({"row": int(row.get(ROW_COLUMN, -1)), "reason": str(reason)})
    return sorted(errors, key=lambda e: int(e["row"]))[:MAX_REASONS]


def ingest_rows(
    log_store: LogStore, mv: ModelVersion, rows: list[dict[str, Any]], kind: Kind, *, source: str
) -> IngestResult:
    """Validate every row, then store the batch; ``BatchRejected`` stores nothing."""
    frame = pd.DataFrame.from_records(rows)
    frame[ROW_COLUMN] = range(len(frame))
    validate = validate_logs if kind == "logs" else validate_labels
    try:
        _, rejected, ignored = validate(mv, frame)
    except DataError as err:
        raise BatchRejected(str(err)) from None
    if len(rejected):
        raise BatchRejected(
            f"{len(rejected)} of {len(frame)} rows are invalid; nothing was stored; "
            "fix the rows listed in 'errors' and resend the batch",
            _row_reasons(rejected),
        )
    frame = frame.drop(columns=[ROW_COLUMN])
    if kind == "logs":
        report: IngestReport = log_store.ingest_frame(mv, frame, source=source)
    else:
        report = log_store.ingest_labels_frame(mv, frame, source=source)
    return IngestResult(
        accepted=report.accepted,
        ignored_columns=[c for c in ignored if c != ROW_COLUMN],
        with_type_errors=report.with_type_errors,
    )

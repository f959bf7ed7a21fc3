"""``Idempotency-Key`` for the ingestion endpoints: a retried batch is stored once.

A key is scoped to the API key's name, the model version and the endpoint.
Its record is a small JSON file under ``<home>/_idempotency/`` held under an
``flock`` while its request runs (the lock is the lease: a process that dies
mid-request releases it). For a key seen before:

* same body, answered → the first answer is replayed (``Idempotent-Replayed: true``),
  nothing is stored again;
* same body, still running in a live process → 409 with ``Retry-After``;
* same body, its process died mid-request → the request runs again (log rows
  already stored are skipped by request id, so nothing is doubled);
* a different body → 409: a key names one batch.

Failures that are not an answer about the batch (503, 500) are recorded as
``failed`` and the next request with the key runs afresh. Records older than
:data:`KEEP_S` are deleted by :func:`prune`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

KEEP_S = 24 * 3600
MAX_KEY_CHARS = 255


@dataclass
class Claim:
    """The outcome of claiming a key: ``run`` it, ``replay`` an answer or ``conflict``."""

    action: Literal["run", "replay", "conflict"]
    status: int = 0
    body: Any = None
    reason: str = ""
    handle: IO[bytes] | None = None
    body_sha256: str = ""

    def finish(self, status: int, body: Any) -> None:
        """Record the answer (2xx and 4xx are final; others let the key be retried)."""
        if self.handle is None:
            return
        state = "done" if status < 500 else "failed"
        _write(self.handle, {"state": state, "body_sha256": self.body_sha256,
                             "status": status, "response": body, "at": time.time()})  # fmt: skip
        self.release()

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _write(handle: IO[bytes], record: dict[str, Any]) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(json.dumps(record).encode())
    handle.flush()
    os.fsync(handle.fileno())


class IdempotencyKeys:
    """Idempotency records under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, scope: str, key: str) -> Path:
        digest = hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()
        return self.root / digest[:2] / f"{digest}.json"

    def claim(self, scope: str, key: str, body: bytes) -> Claim:
        """Claim ``key`` for a request with ``body`` (see the module docstring)."""
        if not key or len(key) > MAX_KEY_CHARS:
            return Claim("conflict", 400, reason=f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} characters")
        body_sha = hashlib.sha256(body).hexdigest()
        path = self._path(scope, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+b")  # noqa: SIM115 - kept open as the lease, closed by Claim
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return Claim("conflict", 409, reason="a request with this Idempotency-Key is still "
                         "being processed; retry after it finishes")  # fmt: skip
        handle.seek(0)
        raw = handle.read()
        try:
            record = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            record = None  # torn write of a process that died: run again
        if record is not None and record.get("body_sha256") != body_sha:
            handle.close()
            return Claim("conflict", 409, reason="this Idempotency-Key was used with a different "
                         "body; use a new key for a new batch")  # fmt: skip
        if record is not None and record.get("state") == "done":
            handle.close()
            return Claim("replay", int(record["status"]), record.get("response"))
        _write(handle, {"state": "in_progress", "body_sha256": body_sha, "at": time.time()})
        return Claim("run", handle=handle, body_sha256=body_sha)


def prune(root: Path, *, keep_s: float = KEEP_S, now: float | None = None) -> int:
    """Delete records older than ``keep_s`` that no request holds; returns how many."""
    cutoff = (now or time.time()) - keep_s
    removed = 0
    if not root.is_dir():
        return 0
    for path in root.glob("*/*.json"):
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            with open(path, "rb") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                path.unlink(missing_ok=True)
                removed += 1
        except (BlockingIOError, FileNotFoundError):
            continue
    return removed

"""Advisory file locks (``flock``) that coordinate writers, readers and compaction.

An ``flock`` belongs to an open file and is released by the kernel when the
process that holds it dies, so a lock doubles as a lease: a journal whose lock
can be taken has no live writer. Locks work across processes and across
threads of one process (each :func:`locked` call opens its own file).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Literal


@contextmanager
def locked(path: Path, mode: Literal["shared", "exclusive"] = "exclusive") -> Iterator[None]:
    """Hold an ``flock`` on ``path`` (created if absent) for the ``with`` block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH if mode == "shared" else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_locked_journal(path: Path, text: str) -> IO[bytes]:
    """Write ``text`` to ``path`` atomically and return its open, exclusively locked handle.

    The lock is taken before the journal is visible under its name, so a
    recovering process that can lock a journal knows its writer is gone. Close
    the handle (or die) to release it.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    handle = open(tmp, "w+b")  # noqa: SIM115 - returned to the caller, who closes it
    try:
        handle.write(text.encode())
        handle.flush()
        os.fsync(handle.fileno())
        fcntl.flock(handle, fcntl.LOCK_EX)
        os.replace(tmp, path)
    except BaseException:
        handle.close()
        raise
    return handle


def try_lock_orphan(path: Path) -> IO[bytes] | None:
    """The locked handle of journal ``path`` when its writer is gone, else ``None``."""
    try:
        handle = open(path, "r+b")  # noqa: SIM115 - returned to the caller, who closes it
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    if not path.exists():  # finished and removed while we waited for the lock
        handle.close()
        return None
    return handle

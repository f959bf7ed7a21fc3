"""Journal recovery touches only journals whose writer is gone (the journal's flock is free)."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.ingest.file_locks import write_locked_journal
from monitor.ingest.logstore import LogStore


def _staged(root: Path) -> tuple[Path, Path]:
    day = root / "logs" / "model=m" / "version=1" / "date=2024-03-01"
    day.mkdir(parents=True)
    tmp, final = day / ".part-1.parquet.tmp", day / "part-1.parquet"
    tmp.write_bytes(b"staged by a writer")
    return tmp, final


def test_a_live_writers_journal_is_left_alone_and_an_orphan_is_rolled_forward(tmp_path: Path) -> None:
    tmp, final = _staged(tmp_path)
    journal = tmp_path / "_journal" / "j1.json"
    journal.parent.mkdir()
    handle = write_locked_journal(journal, json.dumps([[str(tmp), str(final)]]))
    LogStore(tmp_path)  # another process or thread opens the store while the writer is mid-commit
    assert journal.exists() and tmp.exists() and not final.exists()  # untouched
    handle.close()  # the writer dies (the kernel releases its lock)
    store = LogStore(tmp_path)  # opening a store rolls the orphaned journal forward
    assert store.recover() == 0  # and a second recovery has nothing left to do
    assert not journal.exists() and not tmp.exists()
    assert final.read_bytes() == b"staged by a writer"

"""Which request ids a model version's log store already holds, per day, cached.

A retried batch carries the same rows, so the same timestamps: looking a batch's
ids up in the day partitions it touches finds every retry. The index reads only
the id column of files it has not seen yet (files are immutable; a compacted
file is new and its ids are already known), so a check costs the files written
since the last one, not the whole day. Files written by other processes are
found by listing the day directory. Callers hold the model version's write lock
(no concurrent publish of the same ids) and its layout lock shared (compaction
does not delete files mid-read).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq


@dataclass
class _Day:
    ids: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)


class RequestIdIndex:
    """Request ids stored per day directory, for the ``max_days`` most recently used days."""

    def __init__(self, max_days: int = 8) -> None:
        self.max_days = max_days
        self._days: OrderedDict[Path, _Day] = OrderedDict()
        self._lock = threading.Lock()  # the LRU is shared by every model version

    def remember(self, day_dir: Path, file_name: str, ids: set[str]) -> None:
        """Record the ids of a file this process just wrote (saves reading it back)."""
        with self._lock:
            day = self._days.pop(day_dir, None) or _Day()
            self._days[day_dir] = day
            while len(self._days) > self.max_days:
                self._days.popitem(last=False)
            day.ids.update(ids)
            day.files.add(file_name)

    def stored(self, day_dir: Path, id_column: str, wanted: set[str]) -> set[str]:
        """The subset of ``wanted`` stored under ``day_dir``."""
        with self._lock:
            day = self._days.pop(day_dir, None) or _Day()
            self._days[day_dir] = day
            while len(self._days) > self.max_days:
                self._days.popitem(last=False)
        if day_dir.is_dir():
            for path in day_dir.glob("part-*.parquet"):
                if path.name not in day.files:
                    column = pq.read_table(path, columns=[id_column]).column(0)
                    day.ids.update(str(v) for v in column.to_pylist() if v is not None)
                    day.files.add(path.name)
        return wanted & day.ids

"""Group commit: batches that arrive together are made durable by one write and one fsync.

Threads call :meth:`GroupCommit.submit` with their item. If no commit is under
way, the caller becomes the leader: it takes every item queued so far (its own
included), runs ``commit`` once for all of them, and hands each submitter its
own result. Items that arrive meanwhile wait and go in the next group. Each
caller returns only after the commit that holds its item has returned, so
"returned" still means "durable"; if that commit raises, every caller in the
group gets the error (nothing of the group was acknowledged).

>>> calls = []
>>> gc = GroupCommit(lambda items: calls.append(list(items)) or [i * 10 for i in items])
>>> gc.submit(4), calls
(40, [[4]])
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Pending(Generic[T, R]):
    item: T
    done: bool = False
    result: R | None = None
    error: BaseException | None = None


class GroupCommit(Generic[T, R]):
    """Run ``commit(items) -> results`` (one result per item, same order) for groups of items."""

    def __init__(
        self, commit: Callable[[Sequence[T]], Sequence[R]], *, max_items: int = 64
    ) -> None:
        self._commit = commit
        self._max_items = max_items
        self._cond = threading.Condition()
        self._queue: list[_Pending[T, R]] = []
        self._busy = False

    def submit(self, item: T) -> R:
        """Commit ``item`` (with whatever else is waiting) and return its result."""
        mine: _Pending[T, R] = _Pending(item)
        with self._cond:
            self._queue.append(mine)
        while True:
            with self._cond:
                while self._busy and not mine.done:
                    self._cond.wait()
                if mine.done:
                    break
                self._busy = True
                group, self._queue = self._queue[: self._max_items], self._queue[self._max_items :]
            self._lead(group)  # may not hold our item when the queue was long: then lead again
        if mine.error is not None:
            raise mine.error
        return mine.result  # type: ignore[return-value]

    def _lead(self, group: list[_Pending[T, R]]) -> None:
        try:
            results = self._commit([p.item for p in group])
            errors: list[BaseException | None] = [None] * len(group)
        except BaseException as err:  # every submitter of the group sees the failure
            results, errors = [None] * len(group), [err] * len(group)  # type: ignore[list-item]
        with self._cond:
            for pending, result, error in zip(group, results, errors, strict=True):
                pending.result, pending.error, pending.done = result, error, True
            self._busy = False
            self._cond.notify_all()

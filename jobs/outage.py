"""Store outages seen by the service: 503 with ``Retry-After``, one log line per transition.

:func:`is_unavailable` says whether an error means "the database or the data
directory cannot be used right now" (connection refused or dropped, pool
exhausted, disk full or read-only) as opposed to a bug. :class:`OutageTracker`
logs the first such error of an outage and the first success after it, and
nothing in between, so an outage under load writes two lines, not one traceback
per request.
"""

from __future__ import annotations

import errno
import logging
import threading

from sqlalchemy import exc as sa_exc

from monitor.redaction import redact

log = logging.getLogger("raiwatch.outage")
RETRY_AFTER_S = 5
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EIO, errno.EROFS, errno.EDQUOT})


def is_unavailable(err: BaseException) -> bool:
    """True when ``err`` means a store is down or full (retry later), not a bug."""
    if isinstance(err, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    if isinstance(err, sa_exc.DBAPIError) and err.connection_invalidated:
        return True
    return isinstance(err, OSError) and err.errno in _DISK_ERRNOS


class OutageTracker:
    """Whether each store (``database``, ``log_store``) is up; logs transitions only."""

    def __init__(self, component: str = "api") -> None:
        self.component = component
        self._lock = threading.Lock()
        self.down: dict[str, str] = {}

    def failed(self, what: str, err: BaseException) -> None:
        with self._lock:
            first = what not in self.down
            self.down[what] = type(err).__name__
        if first:
            detail = redact(str(err).splitlines()[0] if str(err) else "")
            action = "answering 503 until it is back" if self.component == "api" else "retrying"
            log.error("%s unavailable (%s: %s; seen by the %s); %s",
                      what, type(err).__name__, detail, self.component, action)  # fmt: skip

    def succeeded(self, what: str) -> None:
        with self._lock:
            was_down = self.down.pop(what, None)
        if was_down is not None:
            log.warning("%s available again (seen by the %s)", what, self.component)

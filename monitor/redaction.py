"""One redaction function for every message raiwatch prints, logs, returns or stores.

:func:`redact` removes from a text:

* every secret registered with :func:`register_secret` (webhook signing keys and
  API keys are registered as soon as raiwatch reads or creates them);
* passwords in URLs (``scheme://user:password@host``);
* values of secret-looking query parameters (``?token=...``, ``api_key``, ``sig``...);
* ``Bearer`` tokens and ``whsec_`` / ``rw_`` style keys.

:class:`RedactingFilter` applies it to log records (message and arguments,
exception text included); error formatters and listings call it directly.

>>> redact("POST https://hooks.example/x?token=abc123&a=1 failed")
'POST https://hooks.example/x?token=***&a=1 failed'
>>> redact("postgresql://app:hunter2@db/rw")
'postgresql://app:***@db/rw'
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
_SECRETS: set[str] = set()
_LOCK = threading.Lock()
_MIN_SECRET_CHARS = 6

_URL_PASSWORD = re.compile(r"(?P<pre>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)(?P<pw>[^@\s/]+)(?=@)")
_QUERY_SECRET = re.compile(
    r"(?P<pre>[?&;](?:[a-z0-9_.-]*(?:token|key|secret|sig|signature|password|passwd|pwd|auth|code|"
    r"credential)[a-z0-9_.-]*)=)(?P<val>[^&\s#'\"]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<pre>\bBearer\s+)(?P<val>[A-Za-z0-9._~+/=-]+)", re.IGNORECASE)
_KEY_LIKE = re.compile(r"\b(?P<val>(?:whsec|rw)_[A-Za-z0-9_+/=-]{8,})")


def register_secret(value: str | None) -> None:
    """Remember ``value`` so :func:`redact` hides it everywhere (short values are ignored)."""
    if value and len(value) >= _MIN_SECRET_CHARS:
        with _LOCK:
            _SECRETS.add(value)


def redact(text: object) -> str:
    """``text`` as a string with every secret masked."""
    out = str(text)
    with _LOCK:
        known = sorted(_SECRETS, key=len, reverse=True)
    for secret in known:
        if secret in out:
            out = out.replace(secret, MASK)
    out = _URL_PASSWORD.sub(lambda m: m.group("pre") + MASK, out)
    out = _QUERY_SECRET.sub(lambda m: m.group("pre") + MASK, out)
    out = _BEARER.sub(lambda m: m.group("pre") + MASK, out)
    return _KEY_LIKE.sub(MASK, out)


def redact_url(url: str) -> str:
    """A URL safe to log or list: password and secret query values masked."""
    return redact(url)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message and the exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw message
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Add :class:`RedactingFilter` to every handler of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())

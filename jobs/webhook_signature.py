"""Standard Webhooks signatures: sign on the sender, verify on the receiver.

Pure standard library, importable without the raiwatch service: copy this file
into a receiver or ``from jobs.webhook_signature import verify_webhook``.

Every request carries three headers::

    webhook-id:        msg_...       (the same on every retry of one message)
    webhook-timestamp: 1717171717    (Unix seconds, when this attempt was signed)
    webhook-signature: v1,<base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))>

The key is the secret's bytes, or for a ``whsec_<base64>`` secret the decoded
base64 part. ``webhook-signature`` may list several space-separated signatures
(key rotation); one match is enough.

>>> headers = sign_headers("whsec_c2VjcmV0", "msg_1", 1700000000, '{"a":1}')
>>> headers["webhook-signature"]
'v1,Q5nZ7DiOGwijBBqvBVAK6c0zDr2JLkXI7TaV4f+Q2vY='
>>> verify_webhook("whsec_c2VjcmV0", headers, '{"a":1}', now=1700000010)
'msg_1'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300


class WebhookVerificationError(ValueError):
    """A webhook request is unsigned, badly signed or too old."""


def signing_key(secret: str) -> bytes:
    """Bytes of the HMAC key for ``secret`` (``whsec_`` secrets are base64)."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except binascii.Error as err:
            raise ValueError("a 'whsec_' secret must be followed by base64") from err
    return secret.encode()


def signature(secret: str, msg_id: str, timestamp: int, body: str | bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``id.timestamp.body``."""
    payload = body.encode() if isinstance(body, str) else body
    signed = f"{msg_id}.{timestamp}.".encode() + payload
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_headers(secret: str, msg_id: str, timestamp: int, body: str | bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
    }


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: str | bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> str:
    """Check a received webhook and return its ``webhook-id``.

    Parameters
    ----------
    secret
        The endpoint's secret, as configured in the monitor.
    headers
        Request headers (any case).
    body
        The raw request body, exactly as received.
    tolerance_s
        Maximum age (and clock skew) of ``webhook-timestamp``, against replays.

    Raises
    ------
    WebhookVerificationError
        When a header is missing, the timestamp is out of tolerance or no
        signature matches.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lower["webhook-id"]
        timestamp = int(lower["webhook-timestamp"])
        received = lower["webhook-signature"].split()
    except (KeyError, ValueError) as err:
        raise WebhookVerificationError(
            "missing or malformed webhook-id / webhook-timestamp / webhook-signature header"
        ) from err
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise WebhookVerificationError(
            f"webhook-timestamp {timestamp} is more than {tolerance_s}s from now; "
            "replayed message or clock skew"
        )
    expected = signature(secret, msg_id, timestamp, body)
    if not any(hmac.compare_digest(expected, s) for s in received):
        raise WebhookVerificationError("no webhook-signature matches; wrong secret or altered body")
    return msg_id

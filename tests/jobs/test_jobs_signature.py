"""Standard Webhooks signing and verification."""

from __future__ import annotations

import pytest

from jobs.webhook_signature import (
    WebhookVerificationError,
    sign_headers,
    signature,
    verify_webhook,
)


def test_matches_the_standard_webhooks_reference_vector() -> None:
    # Test vector published with the Standard Webhooks reference libraries.
    sig = signature(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        '{"test": 2432232314}',
    )
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_verify_accepts_rotated_signatures_and_any_header_case() -> None:
    body = b'{"type":"monitor.alert.firing"}'
    headers = sign_headers("new-secret", "msg_1", 1000, body)
    headers["webhook-signature"] = "v1,bm90LWl0 " + headers["webhook-signature"]
    upper = {k.upper(): v for k, v in headers.items()}
    assert verify_webhook("new-secret", upper, body, now=1001) == "msg_1"


@pytest.mark.parametrize(
    ("secret", "body", "now", "match"),
    [
        ("other", b"{}", 1000, "no webhook-signature matches"),
        ("s", b"{ }", 1000, "altered body"),
        ("s", b"{}", 1000 + 301, "more than 300s from now"),
    ],
)
def test_verify_rejects(secret: str, body: bytes, now: int, match: str) -> None:
    headers = sign_headers("s", "msg_1", 1000, b"{}")
    with pytest.raises(WebhookVerificationError, match=match):
        verify_webhook(secret, headers, body, now=now)


def test_missing_header_is_rejected() -> None:
    with pytest.raises(WebhookVerificationError, match="missing or malformed"):
        verify_webhook("s", {"webhook-id": "x"}, b"{}")

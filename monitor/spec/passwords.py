"""Salted, slow password hashes for the dashboard login (``hashlib.scrypt``, standard library).

A hash is one self-describing string, safe to keep in ``raiwatch.yaml`` or an
environment variable (``scrypt$<n>$<r>$<p>$<salt>$<digest>``, base64 parts): the
password itself is never stored. Verification recomputes the digest with the
stored parameters and compares in constant time (:func:`hmac.compare_digest`).

>>> encoded = hash_password("correct horse battery", salt=b"0123456789abcdef")
>>> encoded.split("$")[:4]
['scrypt', '16384', '8', '1']
>>> verify_password("correct horse battery", encoded), verify_password("wrong", encoded)
(True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1  # 16 MiB and ~50 ms per check: slow for guessing, fine for a login
DIGEST_BYTES = 32
MIN_PASSWORD_CHARS = 12


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The encoded scrypt hash of ``password`` with a fresh 16-byte salt (or ``salt``)."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=DIGEST_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def check_password_hash(encoded: str) -> str:
    """``encoded`` when it is a hash made by :func:`hash_password`, else ``ValueError`` saying how to make one."""
    parts = encoded.strip().split("$")
    try:
        ok = len(parts) == 6 and parts[0] == SCHEME and all(int(v) > 0 for v in parts[1:4])
        ok = ok and len(base64.b64decode(parts[4], validate=True)) >= 8
        ok = ok and len(base64.b64decode(parts[5], validate=True)) == DIGEST_BYTES
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            "is not a password hash; make one with 'raiwatch dashboard-password' and paste "
            "the line it prints (never the password itself)"
        )
    return encoded.strip()


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded`` (constant-time comparison of the digests)."""
    _, n, r, p, salt, digest = check_password_hash(encoded).split("$")
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
        dklen=len(expected), maxmem=128 * int(r) * (int(n) + int(p) + 2),
    )  # fmt: skip
    return hmac.compare_digest(actual, expected)


def is_loopback_address(address: str) -> bool:
    """Whether binding to ``address`` keeps a server reachable from this machine only.

    >>> [is_loopback_address(a) for a in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "", "10.0.0.5")]
    [True, True, True, False, False, False]
    """
    host = address.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # "" (every interface) or a host name: reachable from elsewhere

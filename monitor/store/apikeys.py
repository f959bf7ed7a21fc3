"""Ingestion API keys, stored as SHA-256 hashes.

A key is ``rw_`` followed by 43 URL-safe characters (256 random bits), so a
plain SHA-256 is a safe verifier: there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from monitor.errors import ConflictError, NotFoundError
from monitor.redaction import register_secret
from monitor.store.base import utcnow
from monitor.store.records import ApiKeyRecord
from monitor.store.session import StoreCore
from monitor.store.tables_alerts import ApiKeyRow

KEY_PREFIX = "rw_"


def hash_api_key(key: str) -> str:
    """Hex SHA-256 of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyStore(StoreCore):
    """Create, verify, list and revoke API keys."""

    def create_api_key(self, name: str) -> str:
        """Create a key named ``name`` and return it; it cannot be shown again."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        register_secret(key)
        with self.session() as session:
            if session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.name == name)) is not None:
                raise ConflictError(
                    f"an API key named {name!r} already exists; pick another name "
                    "or revoke the old key first"
                )
            session.add(
                ApiKeyRow(
                    name=name, prefix=key[:8], key_hash=hash_api_key(key), created_at=utcnow()
                )
            )
        return key

    def verify_api_key(self, key: str) -> str | None:
        """The key's name when ``key`` is valid and not revoked, else ``None``."""
        if not key.startswith(KEY_PREFIX):
            return None
        with self.session() as session:
            return session.scalar(
                select(ApiKeyRow.name).where(
                    ApiKeyRow.key_hash == hash_api_key(key), ApiKeyRow.revoked_at.is_(None)
                )
            )

    def list_api_keys(self) -> list[ApiKeyRecord]:
        """Every key's name, prefix and dates."""
        with self.session() as session:
            return [
                ApiKeyRecord(r.name, r.prefix, r.created_at, r.revoked_at)
                for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.name))
            ]

    def revoke_api_key(self, name: str) -> None:
        """Revoke a key by name."""
        with self.session() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.name == name))
            if row is None:
                raise NotFoundError(f"no API key named {name!r}; see 'raiwatch apikey list'")
            row.revoked_at = utcnow()

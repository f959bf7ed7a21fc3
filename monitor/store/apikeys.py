"""API keys with scopes, stored as SHA-256 hashes.

A key is ``rw_`` followed by 43 URL-safe characters (256 random bits), so a
plain SHA-256 is a safe verifier: there is nothing to brute-force, and the key
itself is never stored. Every request is checked against the table, so a
revoked key stops working at once.

Scopes (:data:`SCOPES`): ``ingest`` (post logs and labels), ``read`` (the read
endpoints and ``/metrics``), ``admin`` (everything, including key management).
A key may be limited to some model names; an ``admin`` key cannot be (it
manages the whole service). Keys created before scopes existed are ``admin``
(they could do everything), so an existing deployment keeps working.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence

from sqlalchemy import select

from monitor.errors import ConflictError, NotFoundError, SchemaError
from monitor.redaction import register_secret
from monitor.store.base import utcnow
from monitor.store.records import ApiKeyGrant, ApiKeyRecord
from monitor.store.session import StoreCore
from monitor.store.tables_alerts import ApiKeyRow

KEY_PREFIX = "rw_"
SCOPES = ("ingest", "read", "admin")


def hash_api_key(key: str) -> str:
    """Hex SHA-256 of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def check_scopes(
    scopes: Sequence[str], models: Sequence[str] | None
) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """Validated, de-duplicated scopes and models (``SchemaError`` names the problem).

    >>> check_scopes(["read", "ingest", "read"], ["credit"])
    (('ingest', 'read'), ('credit',))
    """
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise SchemaError(
            f"API key scopes must be one or more of {list(SCOPES)}; got {list(scopes)}"
        )
    chosen = tuple(s for s in SCOPES if s in scopes)
    if models is None:
        return chosen, None
    names = tuple(sorted({m.strip() for m in models if m.strip()}))
    if not names:
        raise SchemaError(
            "a model restriction needs at least one model name; omit it for every model"
        )
    if "admin" in chosen:
        raise SchemaError(
            "an admin key cannot be limited to models (it manages the whole service); "
            "use scopes ingest and/or read for a per-model key"
        )
    return chosen, names


def _grant_parts(row: ApiKeyRow) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    scopes = tuple(s for s in (row.scopes or "admin").split(",") if s)
    models = tuple(json.loads(row.models)) if row.models else None
    return scopes, models


class ApiKeyStore(StoreCore):
    """Create, verify, list and revoke API keys."""

    def create_api_key(
        self, name: str, *, scopes: Sequence[str] = ("admin",), models: Sequence[str] | None = None
    ) -> str:
        """Create a key named ``name`` and return it; it cannot be shown again.

        ``scopes`` is a subset of :data:`SCOPES` (default ``admin``, what a key
        was before scopes existed); ``models`` limits the key to those model names.
        """
        chosen, names = check_scopes(scopes, models)
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
                    name=name,
                    prefix=key[:8],
                    key_hash=hash_api_key(key),
                    created_at=utcnow(),
                    scopes=",".join(chosen),
                    models=json.dumps(list(names)) if names else None,
                )
            )
        return key

    def authenticate_api_key(self, key: str) -> ApiKeyGrant | None:
        """The key's grant (name, scopes, models) when ``key`` is valid and not revoked."""
        if not key.startswith(KEY_PREFIX):
            return None
        with self.session() as session:
            row = session.scalar(
                select(ApiKeyRow).where(
                    ApiKeyRow.key_hash == hash_api_key(key), ApiKeyRow.revoked_at.is_(None)
                )
            )
            if row is None:
                return None
            scopes, models = _grant_parts(row)
            return ApiKeyGrant(row.name, scopes, models)

    def verify_api_key(self, key: str) -> str | None:
        """The key's name when ``key`` is valid and not revoked, else ``None``."""
        grant = self.authenticate_api_key(key)
        return None if grant is None else grant.name

    def list_api_keys(self) -> list[ApiKeyRecord]:
        """Every key's name, prefix, scopes, models and dates (never the key or its hash)."""
        with self.session() as session:
            return [
                ApiKeyRecord(r.name, r.prefix, r.created_at, r.revoked_at, *_grant_parts(r))
                for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.name))
            ]

    def revoke_api_key(self, name: str) -> None:
        """Revoke a key by name; the next request with it is refused."""
        with self.session() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.name == name))
            if row is None:
                raise NotFoundError(f"no API key named {name!r}; see 'raiwatch apikey list'")
            row.revoked_at = utcnow()

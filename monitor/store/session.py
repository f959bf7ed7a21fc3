"""The store's connection core: engine, sessions and migrations.

Every facade mixin of :class:`~monitor.store.Store` builds on :class:`StoreCore`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor.store.engine import make_engine, migrate


class StoreCore:
    """Owns the engine and hands out transactional sessions.

    Parameters
    ----------
    url
        SQLAlchemy URL: ``sqlite:///path.db`` or ``postgresql+psycopg://...``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.engine.url.render_as_string(hide_password=True)!r})"

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Upgrade the schema to the newest migration (idempotent, process-safe)."""
        migrate(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

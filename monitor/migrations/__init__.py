"""Alembic migrations of the raiwatch store, shipped as package data.

Run them with :meth:`monitor.store.Store.migrate`; no ``alembic.ini`` is needed.
"""

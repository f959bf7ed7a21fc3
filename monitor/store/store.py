"""The :class:`Store` facade: one object for everything raiwatch keeps in its database.

>>> store = Store("sqlite:///:memory:")  # doctest: +SKIP
>>> store.migrate()                       # doctest: +SKIP
"""

from __future__ import annotations

from monitor.store.alert_handling import AlertHandlingStore
from monitor.store.alert_history import AlertHistoryStore
from monitor.store.apikeys import ApiKeyStore
from monitor.store.detectors import DetectorStateStore
from monitor.store.lifecycle import LifecycleStore
from monitor.store.monitors import MonitorStore
from monitor.store.outbox import OutboxStore
from monitor.store.runs import RunStore
from monitor.store.versions import ModelVersionStore


class Store(
    ModelVersionStore,
    RunStore,
    MonitorStore,
    AlertHistoryStore,
    AlertHandlingStore,
    OutboxStore,
    ApiKeyStore,
    DetectorStateStore,
    LifecycleStore,
):
    """Metadata, baselines, monitors, runs, alerts (and their acknowledgements and silences), the webhook outbox and API keys.

    Parameters
    ----------
    url
        SQLAlchemy URL, ``sqlite:///path.db`` (default deployment) or
        ``postgresql+psycopg://user@host/db``.

    Notes
    -----
    Call :meth:`migrate` once before use; it is idempotent and safe to call from
    several processes at once. Every method runs in its own transaction.
    """

"""``raiwatch serve``: one process with the HTTP API, the scheduler and the deliverer.

It also compacts the log store every ``settings.compaction_interval_s`` seconds.
On start the store is migrated, the scheduler syncs one job per monitor and
catches up every missed window, and the deliverer sends pending deliveries
(including those a crash left mid-send). SIGTERM/SIGINT stop uvicorn, then the
scheduler (running monitors finish) and the deliverer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import uvicorn
from fastapi import FastAPI

from jobs.api import create_app
from jobs.compaction_job import CompactionLoop
from jobs.deliverer import Backoff, Deliverer
from jobs.evaluation import EngineEvaluator, WindowEvaluator, load_evaluator
from jobs.relabel import rerun_for_labels
from jobs.runner import MonitorRunner
from jobs.scheduler import MonitorScheduler
from jobs.webhook_destinations import DestinationPolicy
from monitor.spec.model_version import ModelVersion
from monitor.spec.settings import Settings
from monitor.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceOptions:
    """Timing knobs of the background parts (short values in tests)."""

    backoff_base_s: float = 5.0
    backoff_cap_s: float = 3600.0
    delivery_poll_s: float = 1.0
    delivery_lease_s: float = 120.0
    reconcile_interval_s: float = 30.0
    run_lease_s: float = 300.0
    workers: int = 4


class Service:
    """The parts of ``raiwatch serve``, wired together.

    Parameters
    ----------
    settings
        Data directory, database URL, API host/port, request size limit.
    options
        Timing knobs.
    evaluator
        Window evaluator; default ``$RAIWATCH_EVALUATOR`` or :class:`EngineEvaluator`.
    """

    def __init__(
        self,
        settings: Settings,
        options: ServiceOptions | None = None,
        *,
        evaluator: WindowEvaluator | None = None,
    ) -> None:
        self.settings = settings
        self.options = options or ServiceOptions()
        settings.home.mkdir(parents=True, exist_ok=True)
        self.store = Store(settings.db_url)
        self.store.migrate()
        if evaluator is None:
            named = os.environ.get("RAIWATCH_EVALUATOR")
            evaluator = (
                load_evaluator(named, self.store, settings)
                if named
                else EngineEvaluator(self.store, settings)
            )
        opts = self.options
        self.runner = MonitorRunner(
            self.store, evaluator, dashboard_url=settings.dashboard_url,
            lease_ttl=timedelta(seconds=opts.run_lease_s),
        )  # fmt: skip
        self.scheduler = MonitorScheduler(
            self.store, self.runner, reconcile_interval_s=opts.reconcile_interval_s,
            max_workers=opts.workers,
        )  # fmt: skip
        self.deliverer = Deliverer(
            self.store,
            backoff=Backoff(base_s=opts.backoff_base_s, cap_s=opts.backoff_cap_s),
            poll_interval_s=opts.delivery_poll_s,
            lease=timedelta(seconds=opts.delivery_lease_s),
            destinations=DestinationPolicy.from_settings(
                settings.webhook_allowed_networks, settings.webhook_allow_loopback
            ),
        )
        self.log_store = settings.log_store()
        self.app = create_app(
            self.store, self.log_store, max_request_bytes=settings.max_request_bytes,
            on_labels=self._rerun_for_labels, metrics_public=settings.metrics_public,
        )  # fmt: skip
        self.compaction = CompactionLoop(
            self.store, self.log_store, interval_s=settings.compaction_interval_s,
            min_files=settings.compaction_min_files,
        )  # fmt: skip
        self.app.router.lifespan_context = self._lifespan

    def _rerun_for_labels(self, mv: ModelVersion, request_ids: list[str]) -> list[int]:
        """Re-run the stored windows the labels touch, exactly as ``raiwatch labels ingest``."""
        return rerun_for_labels(self.store, self.settings, mv, request_ids, runner=self.runner)

    @asynccontextmanager
    async def _lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        self.start_background()
        try:
            yield
        finally:
            self.stop_background()

    def start_background(self) -> None:
        """Start the scheduler (with catch-up) and the deliverer."""
        self.scheduler.start()
        self.deliverer.start()
        self.compaction.start()
        log.info("raiwatch service started (database %r)", self.store)

    def stop_background(self) -> None:
        """Stop the scheduler and the deliverer, letting in-flight work finish."""
        self.scheduler.shutdown(wait=True)
        self.deliverer.stop()
        self.compaction.stop()
        self.store.dispose()

    def serve(self) -> None:
        """Serve HTTP on ``settings.api_host:api_port`` until SIGTERM/SIGINT."""
        config = uvicorn.Config(
            self.app, host=self.settings.api_host, port=self.settings.api_port,
            log_level="info", access_log=False,
        )  # fmt: skip
        uvicorn.Server(config).run()

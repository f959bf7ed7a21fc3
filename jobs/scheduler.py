"""APScheduler 3 with its job store in raiwatch's database.

Each enabled monitor is one persistent cron job (``monitor:<name>``) with
coalescing, a misfire grace time and ``max_instances=1``; the job runs
:meth:`~jobs.runner.MonitorRunner.catch_up`, so a late or coalesced fire still
runs every owed window, once, in order. A reconcile job (in memory, every
``reconcile_interval_s``) adds, updates and removes jobs as monitors change and
catches up any monitor whose cursor lags (after a crash, a stop or a database
outage). The monitor lease makes "one instance per monitor" hold across
processes too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from jobs.outage import OutageTracker, is_unavailable
from jobs.runner import MonitorRunner
from jobs.triggers import DelayedCronTrigger
from jobs.windows import due_windows
from monitor.spec.monitor import MonitorSpec
from monitor.store import MonitorRecord, Store

log = logging.getLogger(__name__)

#: Runners reachable from persisted jobs (APScheduler stores a function reference and args).
RUNNERS: dict[str, MonitorRunner] = {}


RUNNING: set[tuple[str, str]] = set()
#: Outages seen by the scheduler's jobs (logged once when they start and once when they end).
SCHEDULER_OUTAGES = OutageTracker("scheduler")
_RUNNING_LOCK = threading.Lock()


def run_monitor_job(monitor: str, runner_key: str = "default") -> None:
    """Entry point of a persisted monitor job: catch the monitor up."""
    runner = RUNNERS.get(runner_key)
    if runner is None:
        log.warning("no runner %r registered; monitor %s not run", runner_key, monitor)
        return
    with _RUNNING_LOCK:
        if (runner_key, monitor) in RUNNING:
            return  # the cron job and a catch-up job met: one is enough
        RUNNING.add((runner_key, monitor))
    try:
        runner.catch_up(monitor)
        SCHEDULER_OUTAGES.succeeded("database")
    except Exception as err:
        if not is_unavailable(err):
            raise
        SCHEDULER_OUTAGES.failed("database", err)  # logged once per outage; retried by reconcile
    finally:
        with _RUNNING_LOCK:
            RUNNING.discard((runner_key, monitor))


def _job_name(record: MonitorRecord) -> str:
    digest = hashlib.sha256(json.dumps(record.spec, sort_keys=True).encode()).hexdigest()[:12]
    return f"{record.name}@{digest}"


class MonitorScheduler:
    """Keep one APScheduler job per enabled monitor and run them.

    Parameters
    ----------
    store
        The store; its engine also hosts APScheduler's job table.
    runner
        Runs the monitors.
    reconcile_interval_s
        How often monitors are re-read and lagging ones caught up.
    max_workers
        Threads running monitors concurrently.
    runner_key
        Key of ``runner`` in :data:`RUNNERS` (one per scheduler in a process).
    """

    def __init__(
        self,
        store: Store,
        runner: MonitorRunner,
        *,
        reconcile_interval_s: float = 30.0,
        max_workers: int = 4,
        runner_key: str = "default",
    ) -> None:
        self.store = store
        self.runner = runner
        self.runner_key = runner_key
        self.reconcile_interval_s = reconcile_interval_s
        # APScheduler's shutdown(wait=True) holds its job-store lock while it waits for
        # running jobs; a reconcile job calling get_job/add_job then would deadlock it.
        # Shutdown first waits for a running reconcile and stops new ones from touching it.
        self._reconcile_lock = threading.Lock()
        self._stopping = False
        self.scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=store.engine),
                "memory": MemoryJobStore(),
            },
            executors={"default": ThreadPoolExecutor(max_workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
            timezone=UTC,
        )

    def sync_jobs(self) -> None:
        """Make the persisted jobs match the enabled monitors."""
        wanted = {m.name: m for m in self.store.list_monitors(enabled_only=True)}
        for job in self.scheduler.get_jobs(jobstore="default"):
            name = job.id.removeprefix("monitor:")
            if job.id.startswith("monitor:") and name not in wanted:
                job.remove()
        for name, record in wanted.items():
            job = self.scheduler.get_job(f"monitor:{name}", jobstore="default")
            if job is not None and job.name == _job_name(record):
                continue
            spec = MonitorSpec.from_stored(record.spec)
            trigger = DelayedCronTrigger.from_crontab_delayed(
                spec.schedule, timezone=spec.timezone, delay=spec.delay
            )
            self.scheduler.add_job(
                run_monitor_job, trigger=trigger, args=[name, self.runner_key],
                id=f"monitor:{name}", name=_job_name(record), jobstore="default",
                replace_existing=True, coalesce=True, max_instances=1,
                misfire_grace_time=int(spec.misfire_grace.total_seconds()) or 1,
            )  # fmt: skip

    def lagging_monitors(self, now: datetime | None = None) -> list[str]:
        """Enabled monitors that owe at least one window now."""
        now = now or self.runner.clock()
        lagging = []
        for record in self.store.list_monitors(enabled_only=True):
            spec = MonitorSpec.from_stored(record.spec)
            if due_windows(spec, cursor=record.last_completed_end, start_at=record.start_at,
                           now=now, limit=1):  # fmt: skip
                lagging.append(record.name)
        return lagging

    def reconcile(self) -> None:
        """Sync jobs and queue a catch-up for every lagging monitor."""
        with self._reconcile_lock:
            if not self._stopping:
                self._reconcile()

    def _reconcile(self) -> None:
        try:
            self.sync_jobs()
            for name in self.lagging_monitors():
                if (self.runner_key, name) in RUNNING:
                    continue
                self.scheduler.add_job(
                    run_monitor_job, args=[name, self.runner_key], id=f"catchup:{name}",
                    jobstore="memory", replace_existing=True, misfire_grace_time=None,
                )  # fmt: skip
        except Exception as err:  # the database may be down: the next reconcile retries
            if is_unavailable(err):
                SCHEDULER_OUTAGES.failed("database", err)  # one line per outage, not per reconcile
            else:
                log.exception("scheduler reconcile failed; retrying in %ss", self.reconcile_interval_s)
        else:
            SCHEDULER_OUTAGES.succeeded("database")

    def start(self) -> None:
        """Start the scheduler and catch every monitor up right away."""
        RUNNERS[self.runner_key] = self.runner
        self.scheduler.start()
        self.scheduler.add_job(
            self.reconcile, "interval", seconds=self.reconcile_interval_s, id="reconcile",
            jobstore="memory", next_run_time=datetime.now(UTC), coalesce=True, max_instances=1,
        )  # fmt: skip

    def shutdown(self, wait: bool = True) -> None:
        """Stop scheduling; with ``wait``, let running monitors finish."""
        with self._reconcile_lock:  # no reconcile is half-way through the scheduler's API
            self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        RUNNERS.pop(self.runner_key, None)

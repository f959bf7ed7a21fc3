"""The webhook deliverer: send outbox rows with retries, backoff and dead letters.

At-least-once: a delivery is marked delivered only after a 2xx response, so a
crash between the receiver's 2xx and our commit re-sends the message with the
*same* ``webhook-id`` (receivers deduplicate on it). Failures (non-2xx, timeout,
closed connection) are retried after ``base * 2**(attempt-1)`` seconds, capped
and multiplied by a random jitter in ``[0.5, 1.5)``; after the endpoint's last
attempt the delivery is dead-lettered until ``raiwatch webhooks redeliver``.

Endpoints are isolated: at most one request per endpoint is in flight, the
claim skips endpoints that are busy, and sends never wait for each other (no
batch barrier), so a hanging endpoint holds one sending slot for at most its
attempt timeout and never delays another endpoint's deliveries. Logged URLs are
redacted (tokens in query strings, passwords).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import httpx

from jobs.webhook_destinations import DestinationDenied, DestinationPolicy
from jobs.webhook_signature import sign_headers
from monitor.redaction import redact, redact_url, register_secret
from monitor.store import DeliveryJob, Store
from monitor.store.base import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter.

    >>> Backoff(base_s=1, cap_s=60, jitter=0).delay(4)
    8.0
    """

    base_s: float = 5.0
    cap_s: float = 3600.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        raw = min(self.cap_s, self.base_s * 2 ** max(attempt - 1, 0))
        if self.jitter <= 0:
            return float(raw)
        r = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return float(raw * r)


class Deliverer:
    """Claim due deliveries and POST them, signed.

    Parameters
    ----------
    store
        The store holding the outbox.
    backoff
        Retry schedule.
    batch
        Deliveries claimed per poll.
    lease
        How long a claimed delivery is ours; it should exceed the longest
        endpoint timeout. An expired lease (we crashed) makes it due again.
    poll_interval_s
        Sleep between polls when nothing is due.
    concurrency
        Requests in flight at once, at most one per endpoint (one slow endpoint
        does not hold up the others).
    destinations
        Where webhooks may go (default: no link-local / metadata addresses, no
        private ranges, loopback allowed); a denied delivery is dead-lettered.
    """

    def __init__(
        self,
        store: Store,
        *,
        backoff: Backoff | None = None,
        batch: int = 50,
        lease: timedelta = timedelta(seconds=120),
        poll_interval_s: float = 1.0,
        user_agent: str = "raiwatch-webhooks/1",
        concurrency: int = 8,
        destinations: DestinationPolicy | None = None,
    ) -> None:
        self.store = store
        self.backoff = backoff or Backoff()
        self.batch = batch
        self.lease = lease
        self.poll_interval_s = poll_interval_s
        self.user_agent = user_agent
        self.destinations = destinations or DestinationPolicy()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.Client(follow_redirects=False, limits=limits)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook-send")
        self.concurrency = concurrency
        self._lock = threading.Lock()
        self._inflight: dict[Future[str], int] = {}  # send -> endpoint id
        self._finished = 0
        self._wake = threading.Event()

    def send(self, job: DeliveryJob) -> str:
        """POST one claimed delivery and record the attempt; returns the new status."""
        register_secret(job.secret)
        timestamp = int(time.time())
        headers = sign_headers(job.secret, job.message_id, timestamp, job.body)
        headers.update({"content-type": "application/json", "user-agent": self.user_agent})
        started, began = utcnow(), time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        denied = False
        try:
            # resolved once and checked; the connection goes to that address (no DNS rebinding)
            pinned = self.destinations.pin(job.url)
            headers["host"] = pinned.host_header
            extensions = {"sni_hostname": pinned.sni_hostname} if pinned.sni_hostname else None
            response = self._client.post(
                pinned.url, content=job.body.encode(), headers=headers, timeout=job.timeout_s,
                extensions=extensions,
            )  # fmt: skip
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except DestinationDenied as err:
            error, denied = str(err), True
        except OSError as err:  # the name does not resolve now: retried like a refused connection
            error = redact(f"cannot resolve the webhook host: {type(err).__name__}: {err}")
        except httpx.TimeoutException:
            error = f"timeout after {job.timeout_s:g}s"
        except httpx.HTTPError as err:
            error = redact(f"{type(err).__name__}: {err}")
        duration = time.perf_counter() - began
        delivered = error is None
        retry_at = None
        if not delivered and job.attempt < job.max_attempts and not denied:
            retry_at = utcnow() + timedelta(seconds=self.backoff.delay(job.attempt))
        status = self.store.record_attempt(
            job, started_at=started, duration_s=duration, status_code=status_code,
            error=error, delivered=delivered, next_attempt_at=retry_at,
        )  # fmt: skip
        level = logging.INFO if delivered else logging.WARNING
        log.log(level, "webhook %s attempt %d to %s: %s", job.message_id, job.attempt,
                redact_url(job.url), error or status_code)  # fmt: skip
        return status

    def _send_done(self, future: Future[str]) -> None:
        with self._lock:
            self._inflight.pop(future, None)
            self._finished += 1
        if future.exception() is not None:
            log.error("webhook send failed: %s", redact(future.exception()))
        self._wake.set()

    def poll_once(self) -> int:
        """Claim what idle endpoints have due and start sending it; returns how many started.

        Never waits for a send: busy endpoints are skipped by the claim.
        """
        with self._lock:
            busy = set(self._inflight.values())
            free = min(self.batch, self.concurrency - len(self._inflight))
        if free <= 0:
            return 0
        jobs = self.store.claim_deliveries(
            limit=free, lease=self.lease, exclude_endpoints=busy, per_endpoint=1
        )
        for job in jobs:
            with self._lock:
                future = self._pool.submit(self.send, job)
                self._inflight[future] = job.endpoint_id
            future.add_done_callback(self._send_done)
        return len(jobs)

    def _wait_for_a_send(self, timeout_s: float) -> None:
        self._wake.wait(timeout_s)
        self._wake.clear()

    def deliver_pending(self) -> int:
        """Send every delivery due now and wait for the sends; returns how many were sent."""
        with self._lock:
            start = self._finished
        while not self._stop.is_set():
            started = self.poll_once()
            with self._lock:
                inflight = len(self._inflight)
            if not started and not inflight:
                break
            if not started:
                self._wait_for_a_send(0.5)
        with self._lock:
            return self._finished - start

    def run_forever(self) -> None:
        """Poll until :meth:`stop`; database outages are logged once per outage and retried."""
        failing = False
        while not self._stop.is_set():
            try:
                started = self.poll_once()
                if failing:
                    log.warning("webhook deliverer: database available again")
                failing = False
            except Exception as err:  # the DB may be down: keep the loop alive, retry later
                if not failing:
                    log.error("webhook deliverer: poll failed (%s); retrying every %ss",
                              redact(err), self.poll_interval_s)  # fmt: skip
                failing = True
                started = 0
            if not started:
                self._wait_for_a_send(self.poll_interval_s)

    def start(self) -> None:
        """Run :meth:`run_forever` in a daemon thread."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run_forever, name="webhook-deliverer", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread (waits for the current request) and close the client."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._pool.shutdown(wait=True)
        self._client.close()

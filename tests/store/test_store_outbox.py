"""Outbox claims, attempts, dead letters and redelivery; leases; API keys; detector state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import ConflictError, NotFoundError
from monitor.signals.results import SignalResult
from monitor.store import AlertPolicy, EndpointSpec, Store
from monitor.store.apikeys import hash_api_key

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _one_delivery(store: Store, max_attempts: int = 2) -> None:
    store.upsert_monitor(
        "m1", "credit", "1", {}, start_at=T0,
        endpoints=[EndpointSpec("http://127.0.0.1:9/hook", "topsecret", max_attempts=max_attempts,
                                events=("monitor.alert.firing",))],
    )  # fmt: skip
    store.save_run("m1", "credit", "1", T0, T0 + timedelta(hours=1), "alert",
                   [SignalResult(signal="data_drift", feature="age", metric="w", value=1.0, threshold=0.1, status="alert")], 1, 0.1, {},
                   policy=AlertPolicy())  # fmt: skip


def _fail(store: Store, job, retry_at: datetime | None) -> str:  # type: ignore[no-untyped-def]
    return store.record_attempt(job, started_at=T0, duration_s=0.1, status_code=500,
                                error="HTTP 500", delivered=False, next_attempt_at=retry_at)  # fmt: skip


def test_claim_retry_dead_letter_and_redeliver(store: Store) -> None:
    _one_delivery(store)
    (job,) = store.claim_deliveries()
    assert job.attempt == 1 and job.secret == "topsecret"
    assert store.claim_deliveries() == []  # leased: nobody else gets it
    now = datetime.now(UTC)
    assert _fail(store, job, now - timedelta(seconds=1)) == "pending"
    (retry,) = store.claim_deliveries()
    assert retry.attempt == 2 and retry.message_id == job.message_id
    assert _fail(store, retry, now) == "dead"
    assert [d.status for d in store.list_deliveries()] == ["dead"]
    assert store.list_attempts(job.id) == [(1, 500, "HTTP 500"), (2, 500, "HTTP 500")]
    assert store.delivery_counts() == {"pending": 0, "sending": 0, "delivered": 0, "dead": 1}
    assert store.redeliver(all_dead=True) == 1
    (again,) = store.claim_deliveries()
    assert again.attempt == 1 and again.message_id == job.message_id
    status = store.record_attempt(again, started_at=T0, duration_s=0.1, status_code=204,
                                  error=None, delivered=True, next_attempt_at=None)  # fmt: skip
    assert status == "delivered"
    assert store.list_deliveries(status="delivered")[0].delivered_at is not None


def test_expired_lease_is_claimed_again_as_a_retry(store: Store) -> None:
    _one_delivery(store, max_attempts=5)
    (job,) = store.claim_deliveries(lease=timedelta(seconds=30))
    later = datetime.now(UTC) + timedelta(seconds=31)  # the sender died mid-request
    (again,) = store.claim_deliveries(now=later)
    assert again.attempt == 2 and again.message_id == job.message_id
    _fail(store, job, None)  # the stale sender reports late: ignored for the state
    assert store.list_deliveries()[0].status == "sending"


def test_monitor_lease_is_exclusive_and_expires(store: Store) -> None:
    store.upsert_monitor("m1", "credit", "1", {}, start_at=T0)
    ttl = timedelta(seconds=60)
    assert store.acquire_lease("m1", "a", ttl, now=T0)
    assert not store.acquire_lease("m1", "b", ttl, now=T0 + timedelta(seconds=30))
    assert store.acquire_lease("m1", "a", ttl, now=T0 + timedelta(seconds=30))  # renew
    assert store.acquire_lease("m1", "b", ttl, now=T0 + timedelta(seconds=91))  # expired
    store.release_lease("m1", "a")  # not the owner: no-op
    assert not store.acquire_lease("m1", "a", ttl, now=T0 + timedelta(seconds=92))
    store.release_lease("m1", "b")
    assert store.acquire_lease("m1", "a", ttl, now=T0 + timedelta(seconds=92))


def test_monitor_upsert_keeps_cursor_and_disables_removed_endpoints(store: Store) -> None:
    _one_delivery(store)
    store.upsert_monitor("m1", "credit", "1", {"v": 2}, start_at=T0,
                         endpoints=[EndpointSpec("http://127.0.0.1:9/new", "x")])  # fmt: skip
    m = store.get_monitor("m1")
    assert m.spec == {"v": 2} and m.last_completed_end == T0 + timedelta(hours=1)
    assert [(e.url[-4:], e.enabled) for e in store.list_endpoints("m1")] == [
        ("hook", False),
        ("/new", True),
    ]
    with pytest.raises(
        NotFoundError, match=r"monitor 'zz' does not exist; known monitors: \['m1'\]"
    ):
        store.get_monitor("zz")


def test_api_keys_are_hashed_and_revocable(store: Store) -> None:
    key = store.create_api_key("ingest")
    assert key.startswith("rw_") and len(key) > 40
    assert store.verify_api_key(key) == "ingest"
    assert store.verify_api_key(key + "x") is None
    assert store.verify_api_key("nope") is None
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT key_hash, prefix FROM api_keys").all()
    assert stored == [(hash_api_key(key), key[:8])]
    with pytest.raises(ConflictError, match="already exists"):
        store.create_api_key("ingest")
    store.revoke_api_key("ingest")
    assert store.verify_api_key(key) is None
    assert store.list_api_keys()[0].revoked_at is not None


def test_detector_state_round_trip(store: Store) -> None:
    assert store.load_detector_state("m1", "adwin") is None
    store.save_detector_state("m1", "adwin", {"width": 3, "buckets": [[1.0, 2.0]]}, T0)
    store.save_detector_state("m1", "adwin", {"width": 4}, T0 + timedelta(hours=1))
    assert store.load_detector_state("m1", "adwin") == ({"width": 4}, T0 + timedelta(hours=1))

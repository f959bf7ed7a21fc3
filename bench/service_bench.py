"""Service benchmark: HTTP ingestion throughput, run-end → webhook latency, 200-monitor soak.

Runs ``raiwatch serve`` in a subprocess on a fresh SQLite home (or
``--database-url``), over loopback HTTP, and writes ``bench/results/service.json``::

    .venv/bin/python -m bench.service_bench --soak-minutes 3

* ingestion: batches of 1,000 rows (JSON), sequential and with 4 concurrent clients;
* ingestion formats: JSON, NDJSON and an Arrow IPC stream, 4 concurrent clients each:
  rows/s, p50/p99 request latency, and stored rows == acknowledged rows (counted in
  the log store afterwards); batches of ``--format-batch-rows`` rows (default 10,000)
  for JSON and NDJSON and ``--arrow-batch-rows`` (default 50,000) for Arrow; the
  1-minute load average is recorded before and after each format (the machine is
  shared); ``--formats-only`` runs just this part;
* latency: end of a run (its commit time) → receipt at a local webhook receiver;
* soak: 200 monitors on ``* * * * *``; every monitor must run every minute once.

The monitors use a constant-time evaluator so the figures are the service's own
(scheduling, storage, outbox, delivery); the drift engine has its own benchmarks.
No peer offers a comparable service (Evidently and NannyML have no scheduler or
webhooks), so there is no peer column.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
import pyarrow as pa
import pyarrow.compute as pc

from jobs.ingest import ARROW_STREAM
from jobs.webhook_receiver import make_server
from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import ModelVersion
from monitor.spec.monitor import parse_monitor_spec
from monitor.store import EndpointSpec, Store
from tests.jobs.service_process import ServiceProcess

RESULTS = Path(__file__).parent / "results" / "service.json"
MV = ModelVersion.model_validate({
    "name": "bench", "version": "1", "task": "binary", "scores": ["score"],
    "features": {f"f{i}": "numeric" for i in range(8)} | {"segment": "categorical"},
})  # fmt: skip
SECRET = "whsec_YmVuY2gtc2VjcmV0LWtleQ=="
SPAN_S = 300 * 86_400  # timestamps wrap within 2024: every batch stays plausible


def _rows(batch: int, size: int = 1000) -> list[dict[str, object]]:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        {"request_id": f"b{batch}-{i}", "timestamp": (t0 + timedelta(seconds=(batch * size + i) % SPAN_S)).isoformat(),
         **{f"f{j}": (i * (j + 1)) % 97 / 7 for j in range(8)}, "segment": f"s{i % 5}",
         "prediction": str(i % 2), "score": (i % 100) / 100}
        for i in range(size)
    ]  # fmt: skip


def bench_ingestion(url: str, key: str, batches: int) -> dict[str, object]:
    """Rows per second, one client then four."""
    payloads = [json.dumps(_rows(b)).encode() for b in range(batches * 2)]
    headers = {"X-API-Key": key, "content-type": "application/json"}
    endpoint = f"{url}/api/v1/models/bench/versions/1/logs"
    with httpx.Client(timeout=60) as http:
        t = time.perf_counter()
        for p in payloads[:batches]:
            http.post(endpoint, content=p, headers=headers).raise_for_status()
        sequential = batches * 1000 / (time.perf_counter() - t)

    def client(chunk: list[bytes]) -> None:
        with httpx.Client(timeout=60) as http:
            for p in chunk:
                http.post(endpoint, content=p, headers=headers).raise_for_status()

    rest = payloads[batches:]
    threads = [threading.Thread(target=client, args=(rest[i::4],)) for i in range(4)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    concurrent = len(rest) * 1000 / (time.perf_counter() - t)
    return {"rows_per_s_1_client": round(sequential), "rows_per_s_4_clients": round(concurrent),
            "batch_rows": 1000, "batches": 2 * batches}  # fmt: skip


def _arrow_rows(batch: int, size: int) -> pa.Table:
    """The rows of :func:`_rows` as Arrow columns, built without Python dicts (fast for big batches)."""
    import numpy as np

    i = np.arange(size)
    t0 = np.datetime64("2024-01-01T00:00:00", "us") + ((batch * size + i) % SPAN_S) * np.timedelta64(1, "s")
    columns: dict[str, pa.Array] = {
        "request_id": pa.array([f"b{batch}-{k}" for k in range(size)], pa.string()),
        "timestamp": pa.array(t0, pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC")),
    }
    for j in range(8):
        columns[f"f{j}"] = pa.array((i * (j + 1)) % 97 / 7)
    columns["segment"] = pa.array(np.char.add("s", (i % 5).astype(str)).astype(object), pa.string())
    columns["prediction"] = pa.array((i % 2).astype(str).astype(object), pa.string())
    columns["score"] = pa.array((i % 100) / 100)
    return pa.table(columns)


def _arrow_body(table: pa.Table) -> tuple[bytes, str]:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes(), ARROW_STREAM


def _payload(fmt: str, rows: list[dict[str, object]]) -> tuple[bytes, str]:
    if fmt == "json":
        return json.dumps(rows).encode(), "application/json"
    if fmt == "ndjson":
        return "\n".join(json.dumps(r) for r in rows).encode(), "application/x-ndjson"
    table = pa.Table.from_pylist(rows)
    table = table.set_column(table.schema.get_field_index("timestamp"), "timestamp",
                             pc.cast(pc.strptime(table.column("timestamp"), "%Y-%m-%dT%H:%M:%S%z", "us"),
                                     pa.timestamp("us", tz="UTC")))  # fmt: skip
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes(), ARROW_STREAM


def _post_all(endpoint: str, key: str, bodies: list[tuple[bytes, str]], latencies: list[float],
              acknowledged: list[int]) -> None:  # fmt: skip
    """One client posting its share of the batches (list.append is atomic under the GIL)."""
    with httpx.Client(timeout=120) as http:
        for body, content_type in bodies:
            began = time.perf_counter()
            r = http.post(endpoint, content=body, headers={"X-API-Key": key, "content-type": content_type})
            r.raise_for_status()
            latencies.append(time.perf_counter() - began)
            acknowledged.append(int(r.json()["accepted"]))


def bench_formats(url: str, key: str, home: Path, batches: int, clients: int = 4, *,
                  batch_rows: int = 10_000, arrow_batch_rows: int = 50_000) -> dict[str, object]:  # fmt: skip
    """Rows/s, latency and stored == acknowledged for JSON, NDJSON and Arrow, ``clients`` at once."""
    endpoint = f"{url}/api/v1/models/bench/versions/1/logs"
    results: dict[str, object] = {"batches_per_format": batches, "clients": clients}
    offset = 10_000  # batch numbers unused by bench_ingestion: fresh request ids
    stored_before = sum(b.num_rows for b in LogStore(home).scan(MV, columns=["request_id"]))
    for fmt in ("json", "ndjson", "arrow"):
        size = arrow_batch_rows if fmt == "arrow" else batch_rows
        if fmt == "arrow":
            bodies = [_arrow_body(_arrow_rows(offset + b, size)) for b in range(batches)]
        else:
            bodies = [_payload(fmt, _rows(offset + b, size)) for b in range(batches)]
        offset += batches
        latencies: list[float] = []
        acknowledged: list[int] = []
        threads = [threading.Thread(target=_post_all, args=(endpoint, key, bodies[i::clients], latencies, acknowledged))
                   for i in range(clients)]  # fmt: skip
        load_before = round(os.getloadavg()[0], 2)
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - t
        ordered = sorted(latencies)
        results[fmt] = {
            "rows_per_s": round(sum(acknowledged) / elapsed),
            "batch_rows": size,
            "latency_p50_s": round(statistics.median(ordered), 4),
            "latency_p99_s": round(ordered[int(0.99 * (len(ordered) - 1))], 4),
            "acknowledged_rows": sum(acknowledged),
            "body_bytes_per_batch": len(bodies[0][0]),
            "loadavg_1m_before": load_before,
            "loadavg_1m_after": round(os.getloadavg()[0], 2),
        }
        del bodies
    stored = sum(b.num_rows for b in LogStore(home).scan(MV, columns=["request_id"])) - stored_before
    results["stored_rows_all_formats"] = stored
    results["acknowledged_rows_all_formats"] = sum(
        int(v["acknowledged_rows"]) for v in results.values() if isinstance(v, dict)  # type: ignore[index]
    )
    return results


class _Receipts:
    def __init__(self) -> None:
        self.times: dict[int, list[float]] = {}
        self.lock = threading.Lock()

    def __call__(self, msg_id: str, payload: dict[str, object]) -> None:
        run_id = int(payload["data"]["run_id"])  # type: ignore[index]
        with self.lock:
            self.times.setdefault(run_id, []).append(time.time())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--monitors", type=int, default=200)
    parser.add_argument("--soak-minutes", type=float, default=3.0)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--format-batches", type=int, default=40)
    parser.add_argument("--format-batch-rows", type=int, default=10_000, help="rows per JSON/NDJSON batch")
    parser.add_argument("--arrow-batch-rows", type=int, default=50_000, help="rows per Arrow batch")
    parser.add_argument("--formats-only", action="store_true",
                        help="only the JSON / NDJSON / Arrow comparison (no soak)")
    args = parser.parse_args(argv)
    if args.formats_only:
        args.monitors, args.soak_minutes = 0, 0.0
    with TemporaryDirectory() as tmp:
        home = Path(tmp)
        db_url = args.database_url or f"sqlite:///{home / 'raiwatch.db'}"
        store = Store(db_url)
        store.migrate()
        store.register_model_version(MV)
        key = store.create_api_key("bench")
        receipts = _Receipts()
        receiver = make_server("127.0.0.1", 0, SECRET, receipts)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        for i in range(args.monitors):
            spec = parse_monitor_spec({"name": f"soak-{i:03d}", "model": "bench", "version": "1",
                                       "schedule": "* * * * *", "window": "1m", "cooldown": "0s"})  # fmt: skip
            store.upsert_monitor(spec.name, "bench", "1", spec.stored_dict(), start_at=start,
                                 endpoints=[EndpointSpec(hook, SECRET, timeout_s=5)])  # fmt: skip
        service = ServiceProcess(
            home, db_url, {"RAIWATCH_EVALUATOR": "bench.service_fake_evaluator:factory",
                           "RAIWATCH_LOG_LEVEL": "WARNING"},
            extra_args=["--poll-interval", str(args.poll_interval), "--reconcile-interval", "30",
                        "--run-lease", "300", "--delivery-lease", "120"],
        )  # fmt: skip
        try:
            service.wait_healthy(60)
            ingestion = bench_ingestion(service.url, key, args.batches)
            ingestion["formats"] = bench_formats(service.url, key, home, args.format_batches,
                                                 batch_rows=args.format_batch_rows,
                                                 arrow_batch_rows=args.arrow_batch_rows)  # fmt: skip
            soak_end = start + timedelta(minutes=args.soak_minutes)
            while datetime.now(UTC) < soak_end + timedelta(seconds=20):
                time.sleep(1)
            cpu = _cpu_seconds(service.proc.pid)
        finally:
            service.stop()
            receiver.shutdown()
        runs = store.list_runs(limit=100_000)
        ticks = [start + timedelta(minutes=m) for m in range(int(args.soak_minutes) + 1)]
        per_tick = {t: sum(1 for r in runs if r.window_end == t) for t in ticks}
        lags = [(r.created_at - r.window_end).total_seconds() for r in runs]
        latencies = [
            min(receipts.times[r.id]) - r.updated_at.timestamp()
            for r in runs
            if r.id in receipts.times
        ]
        deliveries = store.delivery_counts()
        result = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "python": sys.version.split()[0],
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "database": store.dialect,
                "loadavg_1m_5m_15m_at_end": [round(v, 2) for v in os.getloadavg()],
            },
            "ingestion": ingestion,
            "webhook_latency_s": _summary(latencies) | {"poll_interval_s": args.poll_interval},
            "soak": {
                "monitors": args.monitors,
                "minutes": args.soak_minutes,
                "runs": len(runs),
                "runs_per_tick": [per_tick[t] for t in ticks],
                "duplicate_windows": len(runs) - len({(r.monitor, r.window_end) for r in runs}),
                "run_start_lag_s": _summary(lags),
                "deliveries": deliveries,
                "service_cpu_s": cpu,
            },
        }
        out = RESULTS.with_name("service_formats.json") if args.formats_only else RESULTS
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {"n": len(values), "median": round(statistics.median(ordered), 3),
            "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 3), "max": round(ordered[-1], 3)}  # fmt: skip


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().split()
        return round((int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK"), 1)
    except (OSError, IndexError, ValueError):
        return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime, 1)


if __name__ == "__main__":
    main()

"""Local engine vs Spark engine on the same Parquet window, on the same machine.

The window is the streaming benchmark's seeded data set (24 columns, see
``_common.py``), 50 million rows by default, generated once. A baseline is built
from a 1-million-row reference (local engine) and stored; then each step runs in
its own child process and profiles the whole window with the baseline's plan:

1. ``local`` -- :class:`monitor.engines.local.LocalEngine` (Arrow batches, 2 threads);
2. ``spark_ppc1`` / ``spark_ppc2`` -- :class:`monitor.engines.spark.SparkEngine` on
   ``local[2]`` with 1 and 2 partitions per core (``spark.sql.files.maxPartitionBytes``
   set from the file size). Session start-up, a cold run (Python workers start)
   and a warm run are timed separately; the warm run gives rows/s.

Every step checks its profile against the local one (row, null and histogram
counts must be equal) and reports the driver's peak memory (the Python driver's
``VmHWM``; the JVM is a separate process) and the size of the merged profile the
driver holds. ``spark_small`` repeats ``spark_ppc2`` on the 1-million-row reference
to show that the driver's memory does not grow with the row count. From the
measured per-core rate and merge cost the results also give a model of a
1-billion-row day on a 16-executor cluster.

Writes ``bench/results/spark_engine[_<rows>rows].{json,md}``.

Usage::

    .venv/bin/python bench/spark_engine.py                  # 50,000,000 rows
    .venv/bin/python bench/spark_engine.py --rows 5000000   # quick check
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    DATA_DIR,
    machine,
    model_version_document,
    result_document,
    run_child,
    save_results,
    self_peak_rss_mb,
    write_dataset,
)

FULL_ROWS = 50_000_000
CORES = 2
# the on-paper cluster: 16 executors of 4 cores
CLUSTER_EXECUTORS, CLUSTER_CORES_PER_EXECUTOR, CLUSTER_DAY_ROWS = 16, 4, 1_000_000_000


def _load_baseline(store: Path) -> Any:
    from monitor.baseline.reference import Baseline

    return Baseline.from_document(
        json.loads(store.with_suffix(".json").read_text()),
        store.with_suffix(".parquet").read_bytes(),
    )


def _summary(profile: Any) -> dict[str, Any]:
    """What must be equal across engines: rows, and per column nulls and counts."""
    cols = {}
    for name, p in sorted(profile.columns.items()):
        d = p.to_dict()
        cols[name] = [d["count"], d["nulls"], d["type_errors"], d["counts"]]
    return {"rows": profile.row_count, "columns": cols}


def child_baseline(ref_path: Path, store: Path) -> dict[str, Any]:
    from monitor.baseline.reference import create_baseline
    from monitor.spec.model_version import parse_model_version

    t0 = time.perf_counter()
    baseline = create_baseline(
        parse_model_version(model_version_document()), ref_path, threads=CORES
    )
    store.with_suffix(".json").write_text(json.dumps(baseline.to_document()))
    store.with_suffix(".parquet").write_bytes(baseline.sample_bytes())
    return {"work_s": round(time.perf_counter() - t0, 3), "rows": baseline.profile.row_count}


def child_local(window: Path, store: Path, check: Path) -> dict[str, Any]:
    from monitor.engines.local import LocalEngine

    baseline = _load_baseline(store)
    cols = [c.spec.name for c in baseline.plan.columns]
    rss_before = self_peak_rss_mb()
    t0 = time.perf_counter()
    profile = LocalEngine(threads=CORES).profile(window, baseline.window_plan(), columns=cols)
    work = time.perf_counter() - t0
    check.write_text(json.dumps(_summary(profile)))
    return {
        "work_s": round(work, 3),
        "rows": profile.row_count,
        "rows_per_s": profile.row_count / work,
        "peak_rss_before_mb": rss_before,
        "self_peak_rss_mb": self_peak_rss_mb(),
    }


def child_spark(window: Path, store: Path, check: Path, ppc: int) -> dict[str, Any]:
    from monitor.engines.spark import (
        SparkEngine,
        _count_rows,
        decode_partial,
        encode_partial,
        merge_profiles,
    )
    from monitor.spec.engine import SparkSettings

    baseline = _load_baseline(store)
    cols = [c.spec.name for c in baseline.plan.columns]
    split = max(1 << 20, math.ceil(window.stat().st_size / (CORES * ppc)))
    settings = SparkSettings(
        master=f"local[{CORES}]",
        conf={"spark.sql.files.maxPartitionBytes": str(split), "spark.sql.shuffle.partitions": str(CORES),
              "spark.driver.memory": "1g"},
    )  # fmt: skip
    t0 = time.perf_counter()
    engine = SparkEngine(settings=settings)
    engine.session.sparkContext.setLogLevel("ERROR")
    start_s = time.perf_counter() - t0
    parts = engine.read(window, columns=cols).rdd.getNumPartitions()
    rss_before = self_peak_rss_mb()
    runs = []
    for _ in range(2):  # cold (workers start, imports), then warm
        t1 = time.perf_counter()
        profile = engine.profile(window, baseline.window_plan(), columns=cols)
        runs.append(time.perf_counter() - t1)
    # Spark's own floor: the same columns handed to Python as Arrow batches, only counted
    t3 = time.perf_counter()
    engine.read(window, columns=cols).mapInArrow(_count_rows, "part long, rows long").collect()
    handoff_s = time.perf_counter() - t3
    # the driver-side merge cost of one partial (decode + merge), from the merged profile itself
    doc, sample = encode_partial(profile)
    t2 = time.perf_counter()
    merge_profiles([decode_partial(doc, sample) for _ in range(32)])
    merge_each_s = (time.perf_counter() - t2) / 32
    engine.session.stop()
    if check.exists():
        expected = json.loads(check.read_text())
        equal = expected == _summary(profile)
    else:
        check.write_text(json.dumps(_summary(profile)))
        equal = None
    return {
        "partitions_per_core": ppc,
        "partitions": parts,
        "session_start_s": round(start_s, 3),
        "cold_s": round(runs[0], 3),
        "work_s": round(runs[1], 3),
        "rows": profile.row_count,
        "rows_per_s": profile.row_count / runs[1],
        "arrow_handoff_only_s": round(handoff_s, 3),
        "merged_partial_bytes": len(doc) + len(sample or b""),
        "merge_one_partial_s": merge_each_s,
        "counts_equal_local": equal,
        "driver_peak_rss_before_mb": rss_before,
        "self_peak_rss_mb": self_peak_rss_mb(),
    }


def cluster_model(spark: dict[str, Any], window_bytes: int) -> dict[str, Any]:
    """A 1-billion-row day on 16 executors × 4 cores, from the measured warm Spark figures.

    Partitions are Spark's default 128 MiB splits of the same Parquet encoding.
    """
    per_core = spark["rows_per_s"] / CORES
    cores = CLUSTER_EXECUTORS * CLUSTER_CORES_PER_EXECUTOR
    day_bytes = CLUSTER_DAY_ROWS * window_bytes / spark["rows"]
    partitions = math.ceil(day_bytes / (128 << 20))
    fan_in = 16
    levels = max(0, math.ceil(math.log(partitions, fan_in)) - 1)
    scan_s = CLUSTER_DAY_ROWS / (per_core * cores)
    # each tree level merges fan_in partials per group, groups in parallel; the driver merges the last fan_in
    merge_s = (levels + 1) * fan_in * spark["merge_one_partial_s"]
    return {
        "rows": CLUSTER_DAY_ROWS,
        "executors": CLUSTER_EXECUTORS,
        "cores_per_executor": CLUSTER_CORES_PER_EXECUTOR,
        "measured_rows_per_s_per_core": per_core,
        "day_parquet_gib": day_bytes / 2**30,
        "partitions": partitions,
        "merge_fan_in": fan_in,
        "merge_levels_on_executors": levels,
        "profile_scan_s": scan_s,
        "merge_s": merge_s,
        "total_s": scan_s + merge_s,
        "driver_holds_bytes": fan_in * spark["merged_partial_bytes"],
        "assumptions": "executor cores as fast as this machine's local[2] warm run (its fixed per-job "
        "overhead included), reading as fast as local disk; no "
        "stragglers; scheduling overhead and the cluster's storage bandwidth not modelled",
    }


def markdown(doc: dict[str, Any]) -> str:
    m, s = doc["machine"], doc["summary"]
    lines = [
        f"# Spark engine vs local engine: {doc['rows']:,}-row window",
        "",
        f"Generated by `{doc['command']}` at raiwatch commit {m['raiwatch_commit']} on "
        f"{doc['finished_at']} ({m['cpus']} CPUs, {m['memory_gb']} GB, load average at start "
        f"{m['load_average_at_start']}, at end {doc['load_average_at_end']}; shared machine). Window: "
        f"{doc['data']['window']['bytes'] / 2**30:.2f} GiB of Parquet. Spark `local[{CORES}]`.",
        "",
        "| step (own process) | rows | partitions | session start (s) | cold run (s) | warm run (s) | rows/s (warm) | Spark→Arrow hand-off only (s) | driver peak RSS (MiB) | counts equal local |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    loc = doc["local"]
    lines.append(
        f"| local engine, {CORES} threads | {loc['rows']:,} | — | — | — | {loc['work_s']:.1f} | "
        f"{loc['rows_per_s']:,.0f} | — | {loc['process']['peak_rss_mb']:.0f} | (reference) |"
    )
    for key in ("spark_ppc1", "spark_ppc2", "spark_small"):
        p = doc[key]
        lines.append(
            f"| {key} ({p['partitions_per_core']} partition(s)/core) | {p['rows']:,} | {p['partitions']} | "
            f"{p['session_start_s']:.1f} | {p['cold_s']:.1f} | {p['work_s']:.1f} | {p['rows_per_s']:,.0f} | "
            f"{p['arrow_handoff_only_s']:.1f} | {p['process']['peak_rss_mb']:.0f} | {p['counts_equal_local']} |"
        )
    c = doc["cluster_model"]
    lines += [
        "",
        f"- Spark `local[{CORES}]` (warm, best partitioning) runs at **{s['spark_rows_per_s']:,.0f} rows/s**, "
        f"{s['spark_vs_local']:.2f}× the local engine ({s['local_rows_per_s']:,.0f} rows/s) on the same cores.",
        f"- Driver (Python) peak memory: {doc['spark_ppc2']['process']['peak_rss_mb']:.0f} MiB for "
        f"{doc['spark_ppc2']['rows']:,} rows vs {doc['spark_small']['process']['peak_rss_mb']:.0f} MiB for "
        f"{doc['spark_small']['rows']:,} rows; the merged profile it holds is "
        f"{doc['spark_ppc2']['merged_partial_bytes'] / 1024:.0f} KiB (columns × bins + the reservoir).",
        f"- Model of a {c['rows']:,}-row day on {c['executors']} executors × {c['cores_per_executor']} cores "
        f"({c['measured_rows_per_s_per_core']:,.0f} rows/s per core as measured): {c['partitions']:,} partitions, "
        f"scan {c['profile_scan_s'] / 60:.1f} min + merge {c['merge_s']:.1f} s "
        f"({c['merge_levels_on_executors']} levels on executors, fan-in {c['merge_fan_in']}) ≈ "
        f"**{c['total_s'] / 60:.1f} min**; the driver holds {c['driver_holds_bytes'] / 2**20:.1f} MiB of partials. "
        f"Assumptions: {c['assumptions']}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=FULL_ROWS, help="rows of the window")
    parser.add_argument("--reference-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=None, help="result path without suffix")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    for hidden in ("--ref", "--window", "--store", "--result", "--check"):
        parser.add_argument(hidden, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ppc", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's raiwatch

    if args.worker:
        if args.worker == "baseline":
            out = child_baseline(args.ref, args.store)
        elif args.worker == "local":
            out = child_local(args.window, args.store, args.check)
        else:
            out = child_spark(args.window, args.store, args.check, args.ppc)
        args.result.write_text(json.dumps(out))
        return 0

    started = machine()
    ref_path = DATA_DIR / f"drift_reference_{args.reference_rows}_s{args.seed}.parquet"
    window_path = DATA_DIR / f"stream_current_{args.rows}_s{args.seed}.parquet"
    print(f"writing data ({args.rows:,} window rows) to {DATA_DIR} unless present ...", flush=True)
    data = {
        "reference": write_dataset(ref_path, rows=args.reference_rows, seed=args.seed, role="reference"),
        "window": write_dataset(window_path, rows=args.rows, seed=args.seed, role="current", row_group_rows=262_144),
    }  # fmt: skip
    parts: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store, check = Path(tmp) / "stored_baseline", Path(tmp) / "check.json"
        small_check = Path(tmp) / "small_check.json"
        steps = [
            ("baseline", "baseline", window_path, check, 2),
            ("local", "local", window_path, check, 2),
            ("spark_ppc1", "spark", window_path, check, 1),
            ("spark_ppc2", "spark", window_path, check, 2),
            ("spark_small", "spark", ref_path, small_check, 2),
        ]
        for name, worker, window, chk, ppc in steps:
            print(f"running {name} ...", flush=True)
            result = Path(tmp) / f"{name}.json"
            process = run_child([
                __file__, "--worker", worker, "--ref", str(ref_path), "--window", str(window),
                "--store", str(store), "--result", str(result), "--check", str(chk), "--ppc", str(ppc),
            ])  # fmt: skip
            child = json.loads(result.read_text())
            if "self_peak_rss_mb" in child:
                process["peak_rss_mb"] = child.pop("self_peak_rss_mb")
            parts[name] = {**child, "process": process}
            print(f"  {name}: {child}", flush=True)
    best = max((parts["spark_ppc1"], parts["spark_ppc2"]), key=lambda p: p["rows_per_s"])
    summary = {
        "local_rows_per_s": parts["local"]["rows_per_s"],
        "spark_rows_per_s": best["rows_per_s"],
        "spark_vs_local": best["rows_per_s"] / parts["local"]["rows_per_s"],
        "counts_equal": bool(parts["spark_ppc1"]["counts_equal_local"] and parts["spark_ppc2"]["counts_equal_local"]),
    }  # fmt: skip
    doc = result_document(
        "spark_engine", rows=args.rows, full_rows=FULL_ROWS, seed=args.seed, started=started,
        data=data, summary=summary, cluster_model=cluster_model(best, data["window"]["bytes"]), **parts,
    )  # fmt: skip
    base = save_results(doc, args.out, FULL_ROWS, markdown)
    print(f"wrote {base.with_suffix('.json')} and {base.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

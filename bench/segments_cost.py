"""What segments cost: profiling a window with 20 segments vs without, same data, same run.

The data is ``drift_vs_evidently``'s (its generator and cached files under
``bench/data``): the 1,000,000-row current window, 20 numeric + 3 categorical
features + ``prediction``. The baseline is built once from the 1,000,000-row
reference with one segment family: ``cat_1``'s 20 most frequent values (Zipf shares,
about 86 % of rows; the other 30 values fall in no segment). Then, interleaved
``--repeats`` times, the window is profiled from Parquet (``build_profile`` on
``iter_batches``, reading included) without and with the 20 segment profiles, and
evaluated end to end (``evaluate_window``: every signal, plus every signal on every
segment). The medians of wall and CPU time (this process, all threads) are compared;
the goal of issue 14 is profiling with 20 segments at most 2x the work without.
Writes ``bench/results/segments_cost.{json,md}``.

Usage::

    .venv/bin/python bench/segments_cost.py                 # 1,000,000 rows
    .venv/bin/python bench/segments_cost.py --rows 100000   # quick check
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from _common import (
    DATA_DIR,
    machine,
    model_version_document,
    result_document,
    save_results,
    write_dataset,
)

FULL_ROWS = 1_000_000
FAMILY = "cat_1"


def _timed(fn: Any) -> tuple[float, float, Any]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def measure(ref_path: Path, cur_path: Path, *, threads: int, repeats: int) -> dict[str, Any]:
    """Baseline once, then interleaved timings of each configuration."""
    from monitor.baseline.reference import create_baseline
    from monitor.ingest.sources import iter_batches
    from monitor.profiles.dataset import build_profile
    from monitor.segments.evaluate import SegmentRun
    from monitor.segments.spec import SegmentSpec
    from monitor.signals.evaluate import evaluate_window
    from monitor.spec.model_version import parse_model_version

    mv = parse_model_version(model_version_document())
    wanted = [c.name for c in mv.profiled_columns()]
    specs = (SegmentSpec(feature=FAMILY, max_values=20),)
    base_wall, base_cpu, baseline = _timed(
        lambda: create_baseline(mv, ref_path, threads=threads, segments=specs)
    )
    plan = baseline.window_plan()

    def profile(segmented: bool) -> tuple[int, int]:
        run = SegmentRun.plan(baseline, specs, 0.5) if segmented else None
        profiler = run.profiler if run is not None else None
        batches = iter_batches(cur_path, columns=wanted)
        prof = build_profile(batches, plan, threads=threads, what="window", segments=profiler)
        return prof.row_count, (len(profiler.profiles()) if profiler is not None else 0)

    def evaluate(segmented: bool) -> tuple[int, int]:
        report = evaluate_window(
            baseline, iter_batches(cur_path, columns=wanted), threads=threads,
            segments=specs if segmented else (),
        )  # fmt: skip
        return report.row_count, len(report.results)

    runs: dict[str, list[tuple[float, float]]] = {}
    shapes: dict[str, Any] = {}
    for _ in range(repeats):
        for name, fn in (
            ("profile_whole", lambda: profile(False)),
            ("profile_20_segments", lambda: profile(True)),
            ("evaluate_whole", lambda: evaluate(False)),
            ("evaluate_20_segments", lambda: evaluate(True)),
        ):
            wall, cpu, shape = _timed(fn)
            runs.setdefault(name, []).append((wall, cpu))
            shapes[name] = shape
    medians = {
        name: {
            "wall_s": round(statistics.median(w for w, _ in values), 3),
            "cpu_s": round(statistics.median(c for _, c in values), 3),
            "runs": [[round(w, 3), round(c, 3)] for w, c in values],
        }
        for name, values in runs.items()
    }
    assert baseline.segments is not None
    seg_rows = {k: p.row_count for k, p in baseline.segments.profiles.items()}
    return {
        "threads": threads,
        "repeats": repeats,
        "baseline_with_segments": {"wall_s": round(base_wall, 3), "cpu_s": round(base_cpu, 3)},
        "segments": len(seg_rows),
        "reference_rows_in_segments": sum(seg_rows.values()),
        "smallest_segment_reference_rows": min(seg_rows.values()),
        "window_rows": shapes["profile_whole"][0],
        "results": {
            "evaluate_whole": shapes["evaluate_whole"][1],
            "evaluate_20_segments": shapes["evaluate_20_segments"][1],
        },
        "timings": medians,
    }


def markdown(doc: dict[str, Any]) -> str:
    m, s = doc["measured"], doc["summary"]
    t = m["timings"]
    rows = [
        f"| {name.replace('_', ' ')} | {v['wall_s']:.2f} | {v['cpu_s']:.2f} |"
        for name, v in t.items()
    ]
    return "\n".join(
        [
            f"# Segments cost: {doc['rows']:,}-row window, {m['segments']} segments of `{FAMILY}`",
            "",
            f"Same data as `drift_vs_evidently` (seed {doc['data']['seed']}), {m['threads']} threads, "
            f"median of {m['repeats']} interleaved runs; load average at the end "
            f"{doc['load_average_at_end']} on a shared machine. Times include reading the Parquet window.",
            "",
            "| configuration | wall s | CPU s |",
            "|---|---|---|",
            *rows,
            "",
            f"- **Profiling with {m['segments']} segments costs {s['profile_cpu_ratio']:.2f}x the CPU "
            f"({s['profile_wall_ratio']:.2f}x the wall time) of profiling without** — goal <= 2x: "
            f"{'met' if s['target_met'] else 'NOT met'}.",
            f"- End to end (every signal, plus every signal on each of the {m['segments']} segments): "
            f"{s['evaluate_cpu_ratio']:.2f}x the CPU, {s['evaluate_wall_ratio']:.2f}x the wall time.",
            f"- Baseline with segments built once in {m['baseline_with_segments']['wall_s']:.1f} s; "
            f"smallest segment {m['smallest_segment_reference_rows']:,} reference rows.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=FULL_ROWS)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    started = machine()
    ref_path = DATA_DIR / f"drift_reference_{args.rows}_s{args.seed}.parquet"
    cur_path = DATA_DIR / f"drift_current_{args.rows}_s{args.seed}.parquet"
    data = {
        "reference": write_dataset(ref_path, rows=args.rows, seed=args.seed, role="reference"),
        "current": write_dataset(cur_path, rows=args.rows, seed=args.seed, role="current"),
    }
    measured = measure(ref_path, cur_path, threads=args.threads, repeats=args.repeats)
    t = measured["timings"]
    summary = {
        "profile_cpu_ratio": t["profile_20_segments"]["cpu_s"] / t["profile_whole"]["cpu_s"],
        "profile_wall_ratio": t["profile_20_segments"]["wall_s"] / t["profile_whole"]["wall_s"],
        "evaluate_cpu_ratio": t["evaluate_20_segments"]["cpu_s"] / t["evaluate_whole"]["cpu_s"],
        "evaluate_wall_ratio": t["evaluate_20_segments"]["wall_s"] / t["evaluate_whole"]["wall_s"],
    }
    summary["target_met"] = (
        summary["profile_cpu_ratio"] <= 2.0 and summary["profile_wall_ratio"] <= 2.0
    )
    doc = result_document(
        "segments_cost", rows=args.rows, full_rows=FULL_ROWS, seed=args.seed, started=started,
        data={"generation": data, "segment_family": f"{FAMILY}: its 20 most frequent values"},
        summary=summary, measured=measured,
    )  # fmt: skip
    save_results(doc, args.out, FULL_ROWS, markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Data drift on the same Parquet files: Evidently's DataDriftPreset against raiwatch, end to end.

Each tool runs in its own child process, which starts by reading the Parquet
files (Evidently through pandas, raiwatch streaming Arrow batches), so its wall
time, CPU time and peak resident memory (``VmHWM``, imports included) are its own. Both use
their default methods: normalised Wasserstein for numeric columns, Jensen-Shannon
distance for categorical ones (and for numeric columns with at most 5 values),
threshold 0.1. The script then compares the columns each flags as drifted and
the per-column values, and writes ``bench/results/drift_vs_evidently.{json,md}``.

Usage::

    .venv/bin/python bench/drift_vs_evidently.py                 # 1,000,000 rows (make bench)
    .venv/bin/python bench/drift_vs_evidently.py --rows 100000   # quick check
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    CATEGORICAL,
    CATEGORICAL_COLUMNS,
    DATA_DIR,
    MILD,
    NUMERIC,
    NUMERIC_COLUMNS,
    SHIFTED,
    machine,
    model_version_document,
    result_document,
    run_child,
    save_results,
    self_peak_rss_mb,
    write_dataset,
)

FULL_ROWS = 1_000_000
#: Evidently's display names of its stattests -> raiwatch's metric names.
EVIDENTLY_METHODS = {
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "ztest",
    "PSI": "psi",
}


# --- children: one tool each ------------------------------------------------------------------


def run_evidently(ref_path: Path, cur_path: Path) -> dict[str, Any]:
    """Evidently 0.7 DataDriftPreset with its defaults on pandas frames read from Parquet."""
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    t0 = time.perf_counter()
    ref = pd.read_parquet(ref_path)
    cur = pd.read_parquet(cur_path)
    t_read = time.perf_counter()
    definition = DataDefinition(
        numerical_columns=NUMERIC_COLUMNS, categorical_columns=CATEGORICAL_COLUMNS
    )
    report = Report([DataDriftPreset()])
    snapshot = report.run(
        current_data=Dataset.from_pandas(cur, data_definition=definition),
        reference_data=Dataset.from_pandas(ref, data_definition=definition),
    )
    doc = snapshot.dict()
    t_done = time.perf_counter()

    columns: dict[str, dict[str, Any]] = {}
    drifted_count = None
    for metric in doc["metrics"]:
        config = metric["config"]
        if config["type"].endswith(":ValueDrift"):
            value, threshold = float(metric["value"]), float(config["threshold"])
            columns[config["column"]] = {
                "method": EVIDENTLY_METHODS.get(config["method"], config["method"]),
                "value": value,
                "threshold": threshold,
                "drifted": value >= threshold,  # Evidently's rule for distances
            }
        elif config["type"].endswith(":DriftedColumnsCount"):
            drifted_count = int(metric["value"]["count"])
    return {
        "read_s": round(t_read - t0, 3),
        "compute_s": round(t_done - t_read, 3),
        "work_s": round(t_done - t0, 3),
        "drifted_columns_count_metric": drifted_count,
        "columns": columns,
        "self_peak_rss_mb": self_peak_rss_mb(),
    }


def run_raiwatch(ref_path: Path, cur_path: Path, threads: int) -> dict[str, Any]:
    """raiwatch end to end: baseline from the reference file, then one window from the current file."""
    from monitor.baseline.reference import create_baseline
    from monitor.ingest.sources import iter_batches
    from monitor.signals.evaluate import evaluate_window
    from monitor.spec.model_version import parse_model_version

    mv = parse_model_version(model_version_document())
    wanted = [c.name for c in mv.profiled_columns()]
    t0 = time.perf_counter()
    baseline = create_baseline(mv, ref_path, threads=threads)
    t_base = time.perf_counter()
    report = evaluate_window(baseline, iter_batches(cur_path, columns=wanted), threads=threads)
    t_done = time.perf_counter()

    columns: dict[str, dict[str, Any]] = {}
    quality_alerts = []
    for r in report.results:
        if r.signal in ("data_drift", "prediction_drift") and r.feature is not None:
            columns[r.feature] = {
                "method": r.metric,
                "value": r.value,
                "threshold": r.threshold,
                "status": r.status,
                "drifted": r.status == "alert",
                "computed_from": r.details.get("computed_from"),
            }
        elif r.signal == "data_quality" and r.status != "ok":
            quality_alerts.append(
                {"feature": r.feature, "metric": r.metric, "value": r.value, "status": r.status}
            )
    return {
        "baseline_s": round(t_base - t0, 3),
        "window_s": round(t_done - t_base, 3),
        "work_s": round(t_done - t0, 3),
        "threads": threads,
        "window_rows": report.row_count,
        "window_status": report.status,
        "data_quality_not_ok": quality_alerts,
        "columns": columns,
        "self_peak_rss_mb": self_peak_rss_mb(),
    }


# --- parent: data, children, comparison, report ----------------------------------------------


def _designed_shift(col: str) -> str:
    if col == "prediction":
        return "derived (from num_00-02)"
    return "shifted" if col in SHIFTED else "mild" if col in MILD else "none"


def compare(ev: dict[str, Any], rw: dict[str, Any], tolerance: float) -> dict[str, Any]:
    rows = []
    for col in [*NUMERIC, *CATEGORICAL, "prediction"]:
        e, r = ev["columns"].get(col), rw["columns"].get(col)
        same = bool(e and r and e["method"] == r["method"])
        # values are comparable only where both measure the same thing
        diff = abs(e["value"] - r["value"]) if same and r["value"] is not None else None
        rows.append({
            "column": col,
            "designed_shift": _designed_shift(col),
            "evidently_method": e and e["method"],
            "raiwatch_method": r and r["method"],
            "evidently_value": e and e["value"],
            "raiwatch_value": r and r["value"],
            "abs_diff": diff,
            "evidently_drifted": e and e["drifted"],
            "raiwatch_drifted": r and r["drifted"],
            "raiwatch_computed_from": r and r["computed_from"],
        })  # fmt: skip
    diffs = [x["abs_diff"] for x in rows if x["abs_diff"] is not None]
    ev_set = sorted(c for c, x in ev["columns"].items() if x["drifted"])
    rw_set = sorted(c for c, x in rw["columns"].items() if x["drifted"])
    agree = [x for x in rows if x["evidently_method"] == x["raiwatch_method"]]
    # Where both use the same metric, the verdicts can differ only by the rule: Evidently pages on
    # distance >= 0.1; raiwatch on significance at its budget share and distance >= min_effect (0.05).
    disagreements = [
        {"column": x["column"], "value": x["raiwatch_value"], "evidently": x["evidently_drifted"], "raiwatch": x["raiwatch_drifted"]}
        for x in agree if x["evidently_drifted"] != x["raiwatch_drifted"]
    ]
    worst = max(rows, key=lambda x: -1.0 if x["abs_diff"] is None else x["abs_diff"])
    return {
        "same_methods": all(x["evidently_method"] == x["raiwatch_method"] for x in rows),
        "evidently_drifted": ev_set,
        "raiwatch_drifted": rw_set,
        "drifted_sets_equal": ev_set == rw_set,
        "designed_shifted": sorted(SHIFTED),
        "compared_columns": len(diffs),
        "max_abs_diff": max(diffs) if diffs else None,
        "max_abs_diff_column": worst["column"],
        "tolerance": tolerance,
        "within_tolerance": bool(diffs) and max(diffs) <= tolerance,
        "same_method_columns": len(agree),
        "verdicts_differ_where_methods_agree": disagreements,
        "columns": rows,
    }


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def markdown(doc: dict[str, Any]) -> str:
    ev, rw, cmp_, s = doc["evidently"], doc["raiwatch"], doc["comparison"], doc["summary"]
    m = doc["machine"]
    lines = [
        f"# Drift: raiwatch vs Evidently {m['versions']['evidently']} — {doc['rows']:,} rows per side",
        "",
        f"Generated by `{doc['command']}` at raiwatch commit {m['raiwatch_commit']}"
        f"{' (monitor/ modified)' if m['monitor_uncommitted_changes'] else ''} on {doc['finished_at']} "
        f"({m['cpus']} CPUs, {m['memory_gb']} GB, load average at start {m['load_average_at_start']}, "
        f"shared machine). Data: {doc['data']['columns']}, seed {doc['data']['seed']}.",
        "",
        "| tool | work time (s) | process wall (s) | CPU user+sys (s) | peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, part in (("Evidently DataDriftPreset", ev), ("raiwatch baseline + window", rw)):
        cpu = part["process"]["cpu_user_s"] + part["process"]["cpu_sys_s"]
        lines.append(
            f"| {name} | {part['work_s']:.2f} | {part['process']['process_wall_s']:.2f} | {cpu:.1f} | "
            f"{part['process']['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        f"- Speed-up (work time, first Parquet read to results): **{s['speedup_work']:.1f}×**; "
        f"process wall time incl. interpreter start and imports: **{s['speedup_process_wall']:.1f}×**; "
        f"CPU time: {s['cpu_ratio']:.1f}× (raiwatch uses {rw['threads']} threads).",
        f"- Peak memory: raiwatch uses **{s['memory_fraction']:.3f}** of Evidently's peak "
        f"(1/{1 / s['memory_fraction']:.1f}).",
        f"- Evidently: read {ev['read_s']:.2f} s + report {ev['compute_s']:.2f} s. "
        f"raiwatch: baseline {rw['baseline_s']:.2f} s + window {rw['window_s']:.2f} s.",
        f"- Targets: ≥50× faster (work time): {_fmt(s['target_speed_met'])}; "
        f"≤1/3 of Evidently's peak memory: {_fmt(s['target_memory_met'])}.",
        f"- Same methods per column: {_fmt(cmp_['same_methods'])}. Drifted columns equal: "
        f"{_fmt(cmp_['drifted_sets_equal'])} — Evidently {cmp_['evidently_drifted']}, "
        f"raiwatch {cmp_['raiwatch_drifted']} (shifted by design: {cmp_['designed_shifted']}).",
        f"- Where both use the same metric ({cmp_['same_method_columns']} columns), verdicts differ on "
        f"{[d['column'] for d in cmp_['verdicts_differ_where_methods_agree']] or 'none'} "
        "(raiwatch pages a significant change ≥ 0.05σ; Evidently a distance ≥ 0.1).",
        f"- Max |Evidently − raiwatch| over the {cmp_['compared_columns']} columns with the same metric: "
        f"**{cmp_['max_abs_diff']:.5f}** ({cmp_['max_abs_diff_column']}); tolerance {cmp_['tolerance']}: "
        f"{'within' if cmp_['within_tolerance'] else 'NOT within'}.",
        "",
        "| column | designed shift | method | Evidently | raiwatch | abs diff | drifted (Ev / rw) | raiwatch from |",
        "|---|---|---|---:|---:|---:|---|---|",
    ]
    for x in cmp_["columns"]:
        method = (
            x["evidently_method"]
            if x["evidently_method"] == x["raiwatch_method"]
            else (f"{x['evidently_method']} / {x['raiwatch_method']}")
        )
        lines.append(
            f"| {x['column']} | {x['designed_shift']} | {method} | {_fmt(x['evidently_value'])} | "
            f"{_fmt(x['raiwatch_value'])} | {_fmt(x['abs_diff'], 5)} | "
            f"{_fmt(x['evidently_drifted'])} / {_fmt(x['raiwatch_drifted'])} | {_fmt(x['raiwatch_computed_from'])} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=FULL_ROWS, help="rows of the reference and of the current data"
    )
    parser.add_argument("--seed", type=int, default=42, help="data generator seed")
    parser.add_argument("--threads", type=int, default=2, help="raiwatch profiling threads")
    parser.add_argument(
        "--tolerance", type=float, default=0.005, help="allowed |Evidently - raiwatch| per column"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="result path without suffix (default: bench/results/drift_vs_evidently[_<rows>rows])",
    )
    parser.add_argument("--worker", choices=["evidently", "raiwatch"], help=argparse.SUPPRESS)
    parser.add_argument("--ref", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cur", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 2000:
        parser.error(
            f"--rows must be at least 2000 (both tools switch to statistical tests at 1000 rows); got {args.rows}"
        )

    if args.worker:
        if args.worker == "evidently":
            out = run_evidently(args.ref, args.cur)
        else:
            out = run_raiwatch(args.ref, args.cur, args.threads)
        args.result.write_text(json.dumps(out))
        return 0

    started = machine()
    ref_path = DATA_DIR / f"drift_reference_{args.rows}_s{args.seed}.parquet"
    cur_path = DATA_DIR / f"drift_current_{args.rows}_s{args.seed}.parquet"
    print(
        f"writing data ({args.rows:,} rows per side) to {DATA_DIR} unless present ...", flush=True
    )
    data = {
        "reference": write_dataset(ref_path, rows=args.rows, seed=args.seed, role="reference"),
        "current": write_dataset(cur_path, rows=args.rows, seed=args.seed, role="current"),
    }

    parts: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for tool in ("evidently", "raiwatch"):
            print(f"running {tool} ...", flush=True)
            result = Path(tmp) / f"{tool}.json"
            process = run_child([
                __file__, "--worker", tool, "--ref", str(ref_path), "--cur", str(cur_path),
                "--result", str(result), "--threads", str(args.threads), "--rows", str(args.rows),
            ])  # fmt: skip
            child = json.loads(result.read_text())
            process["peak_rss_mb"] = child.pop("self_peak_rss_mb")  # VmHWM, reported by the child
            parts[tool] = {**child, "process": process}
            print(
                f"  {tool}: work {parts[tool]['work_s']:.2f} s, peak {process['peak_rss_mb']:.0f} MiB",
                flush=True,
            )

    ev, rw = parts["evidently"], parts["raiwatch"]
    cpu = {k: v["process"]["cpu_user_s"] + v["process"]["cpu_sys_s"] for k, v in parts.items()}
    summary = {
        "speedup_work": ev["work_s"] / rw["work_s"],
        "speedup_process_wall": ev["process"]["process_wall_s"] / rw["process"]["process_wall_s"],
        "cpu_ratio": cpu["evidently"] / cpu["raiwatch"],
        "memory_fraction": rw["process"]["peak_rss_mb"] / ev["process"]["peak_rss_mb"],
    }
    summary["target_speed_met"] = summary["speedup_work"] >= 50
    summary["target_memory_met"] = summary["memory_fraction"] <= 1 / 3
    doc = result_document(
        "drift_vs_evidently", rows=args.rows, full_rows=FULL_ROWS, seed=args.seed,
        started=started,
        data={
            "files": {
                "reference": str(ref_path.relative_to(DATA_DIR.parent.parent)),
                "current": str(cur_path.relative_to(DATA_DIR.parent.parent)),
            },
            "generation": data,
            "column_designs": {n: d for n, (_, d) in NUMERIC.items()}
            | {n: c[3] for n, c in CATEGORICAL.items()},
        },
        summary=summary,
        evidently=ev,
        raiwatch=rw,
        comparison=compare(ev, rw, args.tolerance),
    )  # fmt: skip
    base = save_results(doc, args.out, FULL_ROWS, markdown)
    print(f"wrote {base.with_suffix('.json')} and {base.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

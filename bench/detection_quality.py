"""Detection quality: false alarms on no-change windows and power on known shifts.

raiwatch with its **default** monitor configuration (false-alarm budget
``alpha = 0.01``) and Evidently's ``DataDriftPreset`` with its defaults are run
on the same seeded windows (:mod:`bench._nochange`: 20 numeric features of four
shapes — normal, heavy-tailed, skewed, discrete —, 3 categorical, 1 boolean and a
prediction column). Per cell:

* **page rate** on windows with no change: the share of windows where raiwatch
  puts any signal in ``alert``; for Evidently, the share where any column is
  drifted and where its dataset-drift rule (≥ 50 % of columns) fires;
* **power** on shifted windows: a mean shift of 0.5σ / 0.25σ / 0.1σ on 5 of the 20
  numeric features at 200 / 1,000 / 5,000 rows, and 5 share points moved between
  two categories of one categorical feature at 1,000 rows;
* Evidently **at a matched false-alarm rate**: its per-window score (the smallest
  per-column p-value, or the largest distance over its threshold) thresholded at
  the raiwatch page rate's cell of the same size, so power is compared fairly.

References are reused for ``--windows-per-reference`` windows each (the page rate
is still the marginal probability over references and windows). The change
detectors' study (:mod:`bench.detector_study`) is run too when present.

    .venv/bin/python bench/detection_quality.py                 # full study
    .venv/bin/python bench/detection_quality.py --windows 200   # quick look
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._nochange import make_frame, model_version_doc

RESULTS = Path(__file__).resolve().parent / "results"

NULL_CELLS = [(n, n) for n in (100, 200, 1000, 5000, 50000)] + [(50000, n) for n in (200, 1000, 5000)]
POWER_CELLS = [
    {"name": "0.5σ on 5 of 20 numeric", "n_ref": 200, "n": 200, "shift": 0.5},
    {"name": "0.25σ on 5 of 20 numeric", "n_ref": 1000, "n": 1000, "shift": 0.25},
    {"name": "0.1σ on 5 of 20 numeric", "n_ref": 5000, "n": 5000, "shift": 0.1},
    {"name": "5 share points, one categorical", "n_ref": 1000, "n": 1000, "cat_shift": 0.05},
]


def _evidently_scores(ref: Any, cur: Any, n_numeric: int) -> dict[str, Any]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    numeric = [f"x{i}" for i in range(n_numeric)]
    categorical = [c for c in ref.columns if c not in numeric]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    snap = Report([DataDriftPreset()]).run(
        current_data=Dataset.from_pandas(cur, data_definition=definition),
        reference_data=Dataset.from_pandas(ref, data_definition=definition),
    )
    drifted, share, worst = 0, 0.0, 0.0
    for metric in snap.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith(":ValueDrift"):
            value, threshold = float(metric["value"]), float(config["threshold"])
            is_p = "p_value" in config["method"] or config["method"] in ("ks", "chisquare", "z")
            # one score per column, larger = more drift: -log10 p relative to the threshold,
            # or distance relative to the threshold
            score = (math.log10(threshold) - math.log10(max(value, 1e-300))) if is_p else (value / threshold - 1)
            worst = max(worst, score)
        elif config["type"].endswith(":DriftedColumnsCount"):
            drifted = int(metric["value"]["count"])
            share = float(metric["value"]["share"])
    return {"any_column": drifted > 0, "dataset": share >= 0.5, "score": worst}


def _cell(args: dict[str, Any]) -> dict[str, Any]:
    from monitor.baseline.reference import create_baseline
    from monitor.profiles.dataset import build_profile
    from monitor.signals.evaluate import evaluate_profile
    from monitor.spec.model_version import parse_model_version
    from monitor.spec.signal_config import SignalConfig

    n_ref, n, windows, per_ref = args["n_ref"], args["n"], args["windows"], args["per_ref"]
    n_numeric = args.get("n_numeric", 20)
    shift = {i: args["shift"] for i in range(5)} if args.get("shift") else None
    mv = parse_model_version(model_version_doc(n_numeric))
    config = SignalConfig()
    pages, by_signal = 0, {}
    ev = {"any_column": 0, "dataset": 0, "scores": [], "windows": 0}
    t_rw = t_ev = 0.0
    rng = np.random.default_rng(args["seed"])
    baseline = ref_frame = None
    for w in range(windows):
        if w % per_ref == 0:
            ref_frame = make_frame(rng, n_ref, n_numeric=n_numeric)
            baseline = create_baseline(mv, ref_frame, threads=1)
        cur = make_frame(rng, n, n_numeric=n_numeric, shift_numeric=shift, shift_categorical=args.get("cat_shift", 0.0))
        t0 = time.perf_counter()
        profile = build_profile([pa.Table.from_pandas(cur, preserve_index=False)], baseline.window_plan(), threads=1)
        alerts = [r for r in evaluate_profile(baseline, profile, config) if r.status == "alert"]
        t_rw += time.perf_counter() - t0
        pages += bool(alerts)
        for s in {r.signal for r in alerts}:
            by_signal[s] = by_signal.get(s, 0) + 1
        if w < args["evidently_windows"]:
            t0 = time.perf_counter()
            e = _evidently_scores(ref_frame, cur, n_numeric)
            t_ev += time.perf_counter() - t0
            ev["any_column"] += e["any_column"]
            ev["dataset"] += e["dataset"]
            ev["scores"].append(e["score"])
            ev["windows"] += 1
    k = max(ev["windows"], 1)
    return {
        **{key: args[key] for key in ("n_ref", "n") if key in args},
        "name": args.get("name"), "n_numeric": n_numeric, "windows": windows, "windows_per_reference": per_ref,
        "raiwatch_page_rate": pages / windows,
        "raiwatch_mc_se": math.sqrt(max(pages, 1) / windows * (1 - pages / windows) / windows),
        "raiwatch_pages_by_signal": by_signal,
        "raiwatch_s_per_window": t_rw / windows,
        "evidently_windows": ev["windows"],
        "evidently_any_column_rate": ev["any_column"] / k,
        "evidently_dataset_drift_rate": ev["dataset"] / k,
        "evidently_scores": ev["scores"],
        "evidently_s_per_window": t_ev / k,
    }  # fmt: skip


def run(windows: int, evidently_windows: int, per_ref: int, workers: int, seed: int) -> dict[str, Any]:
    jobs = [{"kind": "null", "n_ref": a, "n": b} for a, b in NULL_CELLS]
    jobs.append({"kind": "null", "n_ref": 1000, "n": 1000, "n_numeric": 200})
    jobs += [{"kind": "power", **c} for c in POWER_CELLS]
    for i, j in enumerate(jobs):
        big = max(j["n_ref"], j["n"]) >= 50000 or j.get("n_numeric", 20) > 20
        j.update(windows=windows, per_ref=per_ref, seed=seed + i, evidently_windows=min(evidently_windows // (4 if big else 1), windows))
    with ProcessPoolExecutor(workers) as pool:
        out = list(pool.map(_cell, jobs))
    nulls = [dict(o, kind="null") for o, j in zip(out, jobs, strict=True) if j["kind"] == "null"]
    powers = [dict(o, kind="power") for o, j in zip(out, jobs, strict=True) if j["kind"] == "power"]
    for p in powers:  # Evidently at the raiwatch false-alarm rate of the same sizes
        null = next(x for x in nulls if x["n_ref"] == p["n_ref"] and x["n"] == p["n"] and x["n_numeric"] == 20)
        target = max(null["raiwatch_page_rate"], 0.01)
        cut = float(np.quantile(null["evidently_scores"], 1 - target)) if null["evidently_scores"] else math.inf
        p["evidently_matched_fa"] = target
        p["evidently_power_at_matched_fa"] = float(np.mean(np.array(p["evidently_scores"]) > cut)) if p["evidently_scores"] else None
    for o in nulls + powers:
        o.pop("evidently_scores")
    return {"null": nulls, "power": powers}


def markdown(doc: dict[str, Any]) -> str:
    lines = [
        "# Detection quality: raiwatch defaults (alpha = 0.01) vs Evidently DataDriftPreset defaults",
        "",
        f"{doc['windows']} windows per cell for raiwatch (Evidently: {doc['evidently_windows']}, a quarter of that at 50,000 rows "
        "or 200 features); 20 numeric (normal, heavy-tailed, skewed, discrete), 3 categorical, 1 boolean feature and a prediction column.",
        "",
        "## No change: page rate (goal ≤ 1 %)",
        "",
        "| reference | window | features | raiwatch page rate (± MC s.e.) | pages by signal | Evidently any column drifted | Evidently dataset drift |",
        "|---:|---:|---:|---:|---|---:|---:|",
    ]
    for c in doc["null"]:
        lines.append(
            f"| {c['n_ref']:,} | {c['n']:,} | {c['n_numeric'] + 5} | {c['raiwatch_page_rate']:.3%} ± {c['raiwatch_mc_se']:.3%} | "
            f"{c['raiwatch_pages_by_signal'] or '—'} | {c['evidently_any_column_rate']:.1%} | {c['evidently_dataset_drift_rate']:.1%} |"
        )
    lines += ["", "## Known shifts: power", "",
              "| shift | reference | window | raiwatch | Evidently (any column, its defaults) | Evidently at raiwatch's false-alarm rate |",
              "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for c in doc["power"]:
        matched = c["evidently_power_at_matched_fa"]
        lines.append(
            f"| {c['name']} | {c['n_ref']:,} | {c['n']:,} | {c['raiwatch_page_rate']:.1%} | {c['evidently_any_column_rate']:.1%} | "
            f"{'—' if matched is None else f'{matched:.1%}'} (at {c['evidently_matched_fa']:.1%}) |"
        )
    det = doc.get("detectors")
    if det:
        lines += ["", "## Change detectors", "", "```", json.dumps(det.get("summary", det), indent=1)[:4000], "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=1000)
    parser.add_argument("--evidently-windows", type=int, default=200)
    parser.add_argument("--windows-per-reference", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--out", type=Path, default=RESULTS / "detection_quality")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    doc: dict[str, Any] = {"windows": args.windows, "evidently_windows": args.evidently_windows, "seed": args.seed}
    doc.update(run(args.windows, args.evidently_windows, args.windows_per_reference, args.workers, args.seed))
    try:
        from bench.detector_study import detector_study

        doc["detectors"] = detector_study(args.seed)
    except ImportError:
        doc["detectors"] = None
    doc["elapsed_s"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(doc, indent=2, default=str))
    args.out.with_suffix(".md").write_text(markdown(doc))
    print(markdown(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

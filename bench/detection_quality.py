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
            worst = max(worst, _score(value, threshold, is_p))
        elif config["type"].endswith(":DriftedColumnsCount"):
            drifted = int(metric["value"]["count"])
            share = float(metric["value"]["share"])
    return {"any_column": drifted > 0, "dataset": share >= 0.5, "score": worst}


def _score(value: float, threshold: float, is_test: bool) -> float:
    """One column's drift score, larger = more drift, > 0 = drifted by the tool's rule."""
    if is_test:
        return math.log10(threshold) - math.log10(max(value, 1e-300))
    return value / threshold - 1 if math.isfinite(value) else 1e6


def _evidently_rule(ref: Any, cur: Any, n_numeric: int) -> dict[str, Any]:
    """Evidently 0.7's DataDriftPreset rule replayed with raiwatch's metric functions.

    Per column the default test Evidently picks (KS / χ² / z-test at ≤ 1,000 reference
    rows, normalised Wasserstein / Jensen–Shannon above; ≤ 5 distinct numeric values as
    categorical) with its thresholds (p < 0.05, distance ≥ 0.1). Its verdicts are
    checked against the real Evidently on the windows where both run.
    """
    from monitor.metrics import METRICS, choose_default_metric

    scores, drifted = [], 0
    columns = list(ref.columns)
    for col in columns:
        kind = "numeric" if col.startswith("x") and int(col[1:]) < n_numeric else ("binary" if ref[col].nunique() <= 2 else "categorical")
        r, c = ref[col], cur[col]
        unique = int(r.nunique()) if kind == "numeric" else None
        info = METRICS[choose_default_metric(kind, len(r), unique)]  # type: ignore[arg-type]
        if kind == "numeric" and info.sample is not None:
            res = info.sample(r.to_numpy(dtype=float), c.to_numpy(dtype=float))
        else:
            assert info.categorical is not None
            res = info.categorical(r.astype(str).value_counts().to_dict(), c.astype(str).value_counts().to_dict())
        s = _score(res.score, info.default_threshold, info.is_test)
        scores.append(s)
        drifted += s > 0
    return {"any_column": drifted > 0, "dataset": drifted / len(columns) >= 0.5, "score": max(scores)}


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
    ev = {"any_column": 0, "dataset": 0, "windows": 0, "agree": 0}
    rule: dict[str, Any] = {"any_column": 0, "dataset": 0, "scores": []}
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
        replay = _evidently_rule(ref_frame, cur, n_numeric)
        rule["any_column"] += replay["any_column"]
        rule["dataset"] += replay["dataset"]
        rule["scores"].append(replay["score"])
        if w < args["evidently_windows"]:
            t0 = time.perf_counter()
            e = _evidently_scores(ref_frame, cur, n_numeric)
            t_ev += time.perf_counter() - t0
            ev["any_column"] += e["any_column"]
            ev["dataset"] += e["dataset"]
            ev["agree"] += e["any_column"] == replay["any_column"]
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
        "evidently_rule_agrees_with_evidently": ev["agree"] / k,
        "evidently_rule_any_column_rate": rule["any_column"] / windows,
        "evidently_rule_dataset_drift_rate": rule["dataset"] / windows,
        "evidently_scores": rule["scores"],
        "evidently_s_per_window": t_ev / k,
    }  # fmt: skip


def run(windows: int, evidently_windows: int, per_ref: int, workers: int, seed: int, windows_big: int) -> dict[str, Any]:
    jobs = [{"kind": "null", "n_ref": a, "n": b} for a, b in NULL_CELLS]
    jobs.append({"kind": "null", "n_ref": 1000, "n": 1000, "n_numeric": 200})
    jobs += [{"kind": "power", **c} for c in POWER_CELLS]
    for i, j in enumerate(jobs):
        big = max(j["n_ref"], j["n"]) >= 50000 or j.get("n_numeric", 20) > 20
        n_windows = windows_big if big else windows
        j.update(windows=n_windows, per_ref=per_ref, seed=seed + i, evidently_windows=min(max(evidently_windows // (4 if big else 1), 1), n_windows))
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
        f"{doc['windows']} windows per cell ({doc.get('windows_big')} in the 50,000-row and 200-feature cells; seed {doc['seed']}, {doc['windows_per_reference']} windows per reference); "
        "20 numeric features (normal, heavy-tailed t3, skewed log-normal, discrete Poisson), 3 categorical, 1 boolean and a "
        "prediction column. Evidently's rule (its default test per column and threshold) is replayed with raiwatch's metric "
        "functions on every window; the real Evidently 0.7 `DataDriftPreset` runs on the first windows of each cell "
        f"(up to {doc['evidently_windows']}, a quarter at 50,000 rows or 200 features — it takes 5–25 s a window here) "
        "and the table shows how often the replay's verdict equals it.",
        "",
        "## No change: page rate (goal ≤ 1 %)",
        "",
        "| reference | window | features | raiwatch page rate ± MC s.e. | pages by signal | Evidently rule: any column drifted | Evidently rule: dataset drift | real Evidently: any column (windows) | replay = real |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for c in doc["null"]:
        lines.append(
            f"| {c['n_ref']:,} | {c['n']:,} | {c['n_numeric'] + 5} | {c['raiwatch_page_rate']:.2%} ± {c['raiwatch_mc_se']:.2%} | "
            f"{c['raiwatch_pages_by_signal'] or '—'} | {c['evidently_rule_any_column_rate']:.1%} | {c['evidently_rule_dataset_drift_rate']:.1%} | "
            f"{c['evidently_any_column_rate']:.0%} ({c['evidently_windows']}) | {c['evidently_rule_agrees_with_evidently']:.0%} |"
        )
    lines += ["", "## Known shifts: power", "",
              "| shift | reference | window | raiwatch | Evidently rule (its defaults) | Evidently rule at raiwatch's false-alarm rate |",
              "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for c in doc["power"]:
        matched = c["evidently_power_at_matched_fa"]
        lines.append(
            f"| {c['name']} | {c['n_ref']:,} | {c['n']:,} | {c['raiwatch_page_rate']:.1%} | {c['evidently_rule_any_column_rate']:.1%} | "
            f"{'—' if matched is None else f'{matched:.1%}'} (at {c['evidently_matched_fa']:.1%}) |"
        )
    det = (doc.get("detectors") or {}).get("detectors")
    if det:
        lines += ["", "## Change detectors (documented stream: bench/results/detector_study.md)", "",
                  "| detector | seeds | meets the rule | false alarms / 100 stationary days | per-window false-alarm rate |",
                  "|---|---:|---|---:|---:|"]  # fmt: skip
        for name, d in det.items():
            lines.append(
                f"| {name} | {d.get('seeds')} | {d.get('meets_rule')} | {d.get('false_alarms_per_100_days')} | {d.get('window_false_alarm_rate')} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=1000)
    parser.add_argument("--windows-big", type=int, default=400, help="windows in the 50,000-row and 200-feature cells")
    parser.add_argument("--evidently-windows", type=int, default=12)
    parser.add_argument("--windows-per-reference", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--out", type=Path, default=RESULTS / "detection_quality")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    doc: dict[str, Any] = {
        "windows": args.windows, "evidently_windows": args.evidently_windows, "seed": args.seed,
        "windows_per_reference": args.windows_per_reference, "windows_big": args.windows_big,
    }  # fmt: skip
    doc.update(run(args.windows, args.evidently_windows, args.windows_per_reference, args.workers, args.seed, args.windows_big))
    try:
        from bench.detector_study import detector_study

        doc["detectors"] = detector_study(0)
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

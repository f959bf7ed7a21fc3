"""Benchmark: raiwatch's CBPE against NannyML's CBPE on the US census employment data.

Both estimate the ROC AUC of a binary classifier on chunks of unlabelled analysis data; the
targets, which NannyML ships with the data set, give the realised ROC AUC of each chunk. The
figures are the mean absolute error of each estimate against the realised value, how often
the realised value falls inside each tool's band, and the time each takes (fit + estimate).

NannyML is not a raiwatch dependency: it runs in its own virtualenv (``bench/.venv-nannyml``,
created on first use) and exchanges data with this process through files. Its usage
telemetry is switched off (``NML_DISABLE_USAGE_LOGGING``); this machine has no network.

Usage (from the repository root, with raiwatch's virtualenv)::

    .venv/bin/python bench/cbpe_vs_nannyml.py [--chunk-size 5000] [--repeat 3]

Writes ``bench/results/cbpe_vs_nannyml.json`` and a table, ``cbpe_vs_nannyml.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NANNYML_VENV = HERE / ".venv-nannyml"
RESULT = HERE / "results" / "cbpe_vs_nannyml.json"
NO_TELEMETRY = {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1"}  # and no network here anyway
COLUMNS = {"score": "predicted_probability", "prediction": "prediction", "target": "employed"}


def nannyml_worker(workdir: Path, chunk_size: int, repeat: int) -> None:
    """Run inside the NannyML virtualenv: export the data, estimate, write the figures."""
    import nannyml as nml
    import pandas as pd

    reference, analysis, targets = nml.load_us_census_ma_employment_data()
    analysis = analysis.merge(targets, on="id", how="left")
    keep = ["id", COLUMNS["score"], COLUMNS["prediction"], COLUMNS["target"]]
    reference[keep].to_parquet(workdir / "reference.parquet")
    analysis[keep].to_parquet(workdir / "analysis.parquet")
    times = []
    for _ in range(repeat):  # the fastest of a few runs: the machine is shared
        start = time.perf_counter()
        estimator = nml.CBPE(
            y_pred_proba=COLUMNS["score"],
            y_pred=COLUMNS["prediction"],
            y_true=COLUMNS["target"],
            problem_type="classification_binary",
            metrics=["roc_auc"],
            chunk_size=chunk_size,
        )
        estimator.fit(reference)
        result = estimator.estimate(analysis.drop(columns=[COLUMNS["target"]]))
        times.append(time.perf_counter() - start)
    df = result.filter(period="analysis").to_df()
    chunks = [
        {
            "start": int(row[("chunk", "start_index")]),
            "end": int(row[("chunk", "end_index")]) + 1,
            "estimate": float(row[("roc_auc", "value")]),
            "low": float(row[("roc_auc", "lower_confidence_boundary")]),
            "high": float(row[("roc_auc", "upper_confidence_boundary")]),
        }
        for _, row in df.iterrows()
    ]
    out = {
        "version": nml.__version__,
        "pandas": pd.__version__,
        "seconds": min(times),
        "all_seconds": times,
        "chunks": chunks,
    }
    (workdir / "nannyml.json").write_text(json.dumps(out))


def ensure_nannyml_venv() -> Path:
    """Create ``bench/.venv-nannyml`` with NannyML the first time; return its python."""
    python = NANNYML_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(NANNYML_VENV)], check=True)
    probe = subprocess.run(
        [str(python), "-c", "import nannyml, statsmodels"], capture_output=True, env=NO_TELEMETRY
    )
    if probe.returncode != 0:  # nannyml 0.13 imports statsmodels without requiring it
        pip = [str(python), "-m", "pip", "install", "-q", "nannyml", "statsmodels", "pyarrow"]
        subprocess.run(pip, check=True)
    return python


def run_raiwatch(workdir: Path, chunks: list[dict[str, Any]], repeat: int) -> dict[str, Any]:
    """raiwatch's CBPE on the same chunks; realised ROC AUC of each chunk with scikit-learn."""
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    sys.path.insert(0, str(HERE.parent))
    from monitor.signals.estimated_performance import CBPE

    reference = pd.read_parquet(workdir / "reference.parquet")
    analysis = pd.read_parquet(workdir / "analysis.parquet")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        cbpe = CBPE("binary", classes=(0, 1), seed=0)
        cbpe.fit(reference[COLUMNS["score"]].to_numpy(), reference[COLUMNS["target"]].to_numpy())
        estimates = []
        for c in chunks:
            part = analysis.iloc[c["start"] : c["end"]]
            scores, predictions = part[COLUMNS["score"]], part[COLUMNS["prediction"]]
            estimates.append(cbpe.estimate(scores.to_numpy(), predictions.to_numpy())["roc_auc"])
        times.append(time.perf_counter() - start)
    realised = []
    for c in chunks:
        part = analysis.iloc[c["start"] : c["end"]]
        realised.append(float(roc_auc_score(part[COLUMNS["target"]], part[COLUMNS["score"]])))
    return {
        "seconds": min(times),
        "all_seconds": times,
        "estimates": estimates,
        "realised": realised,
        "calibration": cbpe.calibration_,
        "cv_brier": cbpe.cv_brier_,
    }


def summarise(nannyml: dict[str, Any], raiwatch: dict[str, Any]) -> dict[str, Any]:
    """MAE, band coverage and time of each tool, plus the per-chunk table."""
    real = raiwatch["realised"]
    rows: list[dict[str, Any]] = []
    err: dict[str, list[float]] = {"raiwatch": [], "nannyml": []}
    cover = {"raiwatch": 0, "nannyml": 0}
    for c, (est, low, high), r in zip(nannyml["chunks"], raiwatch["estimates"], real, strict=True):
        err["raiwatch"].append(abs(est - r))
        err["nannyml"].append(abs(c["estimate"] - r))
        cover["raiwatch"] += low <= r <= high
        cover["nannyml"] += c["low"] <= r <= c["high"]
        rows.append(
            {
                "start": c["start"],
                "end": c["end"],
                "realised_roc_auc": r,
                "raiwatch": [est, low, high],
                "nannyml": [c["estimate"], c["low"], c["high"]],
            }
        )
    n = len(real)
    return {
        "mae": {k: sum(v) / n for k, v in err.items()},
        "max_abs_error": {k: max(v) for k, v in err.items()},
        "band_coverage": {k: v / n for k, v in cover.items()},
        "seconds": {"raiwatch": raiwatch["seconds"], "nannyml": nannyml["seconds"]},
        "all_seconds": {"raiwatch": raiwatch["all_seconds"], "nannyml": nannyml["all_seconds"]},
        "chunks": rows,
    }


def markdown_table(report: dict[str, Any]) -> str:
    """The headline figures as a Markdown table."""
    lines = [
        f"# CBPE vs NannyML: ROC AUC on {report['n_chunks']} chunks of "
        f"{report['chunk_size']} rows (US census employment)",
        "",
        "| tool | MAE vs realised | max abs error | band coverage | seconds (fit + estimate, best of runs) |",
        "|---|---|---|---|---|",
    ]
    for tool in ("raiwatch", "nannyml"):
        lines.append(
            f"| {tool} | {report['mae'][tool]:.4f} | {report['max_abs_error'][tool]:.4f} | "
            f"{report['band_coverage'][tool]:.2f} | {report['seconds'][tool]:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per tool (min kept)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)  # inside NannyML's venv
    args = parser.parse_args()
    if args.worker:
        nannyml_worker(args.worker, args.chunk_size, args.repeat)
        return
    python = ensure_nannyml_venv()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        cmd = [
            str(python),
            __file__,
            "--worker",
            str(workdir),
            "--chunk-size",
            str(args.chunk_size),
            "--repeat",
            str(args.repeat),
        ]
        subprocess.run(cmd, check=True, env=NO_TELEMETRY, cwd=tmp)
        nannyml = json.loads((workdir / "nannyml.json").read_text())
        raiwatch = run_raiwatch(workdir, nannyml["chunks"], args.repeat)
    import numpy
    import sklearn

    summary = summarise(nannyml, raiwatch)
    report = {
        "benchmark": "cbpe_vs_nannyml",
        "data": "nannyml.load_us_census_ma_employment_data (reference 2015; analysis with targets)",
        "metric": "roc_auc",
        "chunk_size": args.chunk_size,
        "n_chunks": len(summary["chunks"]),
        "raiwatch_calibration": raiwatch["calibration"],
        "raiwatch_cv_brier": raiwatch["cv_brier"],
        "versions": {
            "nannyml": nannyml["version"],
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "cpu_count": os.cpu_count(),
        **summary,
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(report, indent=2) + "\n")
    RESULT.with_suffix(".md").write_text(markdown_table(report))
    print(
        f"ROC AUC MAE  raiwatch {summary['mae']['raiwatch']:.4f}  nannyml {summary['mae']['nannyml']:.4f}"
    )
    print(
        f"band cover   raiwatch {summary['band_coverage']['raiwatch']:.2f}  "
        f"nannyml {summary['band_coverage']['nannyml']:.2f}"
    )
    print(f"seconds      raiwatch {raiwatch['seconds']:.2f}  nannyml {nannyml['seconds']:.2f}")
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()

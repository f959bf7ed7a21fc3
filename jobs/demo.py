"""``raiwatch demo``: the whole product on embedded defaults, seeded and offline.

1. trains a credit-scoring model on synthetic applicants and builds its baseline;
2. logs four weeks of daily traffic through the SDK's :class:`InferenceLogger`,
   with data drift injected in ``income`` and ``purpose`` from a known day and a
   concept-drift episode (same inputs, changed relation to the label) before it;
3. ingests delayed labels, runs the monitor for every day and prints the
   day-by-day table;
4. builds a Responsible-AI bundle for the same model (the one it monitors, from its
   joblib file, so the dashboard's what-if editor re-predicts edited rows) and prints
   its gate verdicts.

With ``lifecycle`` (what ``raiwatch demo`` runs) the data-drift episode also makes
business loans riskier than the model learned; four days into it the team retrains
on the labelled drifted days and deploys ``credit:2`` in shadow (its logs carry the
same request ids), the monitor compares the two every day until the ``challenger``
signal says ``better``, and ``retrain_every: 14d`` sends scheduled retraining requests.

The monitor also watches each ``employment`` segment (its baseline holds a profile per
segment): from ``segment_day`` retirees (12 % of traffic) turn to home loans and employed
applicants away from them; the ``employment=retired`` segment alerts while the aggregate
mix of purposes, unchanged, does not.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path
from typing import Any, cast

import joblib
import numpy as np
import pandas as pd
from rich.markup import escape

from jobs.cli_common import console, open_store
from jobs.demo_data import FEATURES, SEGMENT, applicants, labels_for, train_model
from jobs.demo_service import run_service_step
from monitor.baseline.reference import create_baseline
from monitor.ingest.logstore import LogStore
from monitor.ingest.sdk import InferenceLogger
from monitor.segments.spec import SegmentSpec
from monitor.spec.model_version import parse_model_version
from monitor.spec.settings import Settings

MARKER = ".raiwatch-demo"
START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
ROWS_PER_DAY = 1500
MONITOR = "credit-daily"
#: Lifecycle episode: log-odds of default for business loans once the data drift starts
#: (0.3 before), and how many days into the drift the retrained credit:2 goes into shadow
#: (labels arrive 3 days late, so it is trained on the labels of the first drifted days).
RISKIER_BUSINESS = 1.5
SHADOW_AFTER = 5
#: The monitor's segments (its YAML says the same; the baseline holds a profile for each).
SEGMENTS = (SegmentSpec(feature=SEGMENT[0], min_rows=100, signals=("data_drift", "performance")),)


def _fresh_home(home: Path) -> None:
    if home.exists():
        if not (home / MARKER).exists():
            raise SystemExit(
                f"{home} exists and is not a raiwatch demo directory; choose another --home"
            )
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / MARKER).write_text("created by `raiwatch demo`; safe to delete\n")


def model_version_spec() -> dict[str, object]:
    return {
        "name": "credit",
        "version": "1",
        "task": "binary",
        "features": FEATURES,
        "target": "default",
        "prediction": "prediction",
        "scores": ["score"],
        "classes": ["0", "1"],
        "sensitive_features": ["sex"],
    }


def run_demo(
    *,
    home: Path,
    days: int = 28,
    drift_day: int = 18,
    concept_days: tuple[int, int] = (8, 13),
    seed: int = 0,
    lifecycle: bool = False,
    segment_day: int | None = None,
) -> None:
    segment_day = max(1, drift_day // 2) if segment_day is None else segment_day
    _fresh_home(home)
    console.width = max(console.width, 132)  # the day-by-day table is wide; pipes default to 80
    rng = np.random.default_rng(seed)
    settings = Settings(home=home)
    store = open_store(settings)
    mv = parse_model_version(model_version_spec(), source="demo")
    store.register_model_version(mv)
    (home / "credit.yaml").write_text(mv.to_yaml())

    # 1. model + baseline (from held-out reference data scored by the model)
    train = applicants(6000, rng)
    y = labels_for(train, rng)
    model = train_model(train, y, seed)
    (home / "models").mkdir()
    joblib.dump(model, home / "models" / "credit.joblib")
    ref = applicants(5000, rng)
    ref["default"] = labels_for(ref, rng)
    ref["score"] = model.predict_proba(ref[list(FEATURES)])[:, 1]
    ref["prediction"] = (ref["score"] >= 0.5).astype(int)
    ref["request_id"] = [f"ref-{i}" for i in range(len(ref))]
    (home / "data").mkdir()
    ref.to_parquet(home / "data" / "reference.parquet")
    train.assign(default=y).to_parquet(home / "data" / "train.parquet")  # for the RAI review
    baseline = create_baseline(
        mv, home / "data" / "reference.parquet", seed=seed, segments=SEGMENTS
    )
    store.save_baseline(mv.name, mv.version, baseline.to_document(), baseline.sample_bytes())
    console.print(
        f"[bold]1.[/] trained the credit model and built its baseline from {len(ref):,} reference rows"
    )

    # 2. daily traffic through the SDK, 3. delayed labels
    logs = LogStore(home)
    label_rows = []
    shadow_day = drift_day + SHADOW_AFTER if lifecycle and drift_day + SHADOW_AFTER < days else None
    drifted_days: list[pd.DataFrame] = []
    shadow: InferenceLogger | None = None
    with InferenceLogger(mv, logs, flush_rows=2000, flush_interval_s=1.0) as logger:
        for d in range(days):
            day = START + dt.timedelta(days=d)
            x = applicants(
                ROWS_PER_DAY, rng, drifted=d >= drift_day, segment_drift=d >= segment_day
            )
            scores = model.predict_proba(x[list(FEATURES)])[:, 1]
            risk = RISKIER_BUSINESS if lifecycle and d >= drift_day else 0.3
            truth = labels_for(x, rng, concept_shift=concept_days[0] <= d <= concept_days[1], business_risk=risk)
            if shadow_day is not None and d >= drift_day:
                drifted_days.append(x.assign(default=truth))
            if d == shadow_day:
                shadow, model2 = _deploy_challenger(home, store, drifted_days[: SHADOW_AFTER - 2], logs, seed)
            offsets = np.sort(rng.uniform(0, 86_400, size=len(x)))
            scores2 = model2.predict_proba(x[list(FEATURES)])[:, 1] if shadow is not None else None
            for i, row in enumerate(x.to_dict(orient="records")):
                when = day + dt.timedelta(seconds=float(offsets[i]))
                rid = logger.log(
                    row,
                    int(scores[i] >= 0.5),
                    [float(scores[i])],
                    request_id=f"d{d}-{i}",
                    timestamp=when,
                )
                if shadow is not None and scores2 is not None:  # same request, answered by credit:2 too
                    shadow.log(row, int(scores2[i] >= 0.5), [float(scores2[i])], request_id=rid, timestamp=when)
                label_rows.append((rid, int(truth[i]), day + dt.timedelta(days=3)))
    if shadow is not None:
        shadow.close()
    labels = pd.DataFrame(label_rows, columns=["request_id", "label", "label_timestamp"])
    label_report = logs.ingest_labels_frame(mv, labels, source="demo")
    console.print(
        f"[bold]2.[/] logged {logger.logged:,} inferences over {days} days through the SDK; {label_report.accepted:,} labels arrived 3 days late"
    )

    # 4. the service's work: a monitor with a signed webhook, backfilled day by day
    run_service_step(
        home, settings, store, name=MONITOR, start=START, days=days, drift_day=drift_day,
        concept_days=concept_days, challenger_day=shadow_day, retrain_every="14d" if lifecycle else None,
        segment_day=segment_day,
    )  # fmt: skip
    _rai_step(home, seed)
    exe = _command_name()
    drift_date = (START + dt.timedelta(days=drift_day)).date()
    console.print(f"\nEverything is stored under [bold]{home}[/]. Look at a day yourself:")
    console.print(
        f"  {exe} monitor run --home {home} -m credit -v 1 --start {drift_date} --end {drift_date + dt.timedelta(days=1)}"
    )
    if shadow_day is not None:
        console.print(f"  {exe} monitor promote --home {home} {MONITOR}   # make credit:2 the champion")
    console.print("\n[bold]Open the dashboard on the demo's results:[/]")
    console.print(f"  {exe} dashboard --home {home}")


def _deploy_challenger(
    home: Path, store: Any, labelled_days: list[pd.DataFrame], logs: LogStore, seed: int
) -> tuple[InferenceLogger, Any]:
    """Retrain on the drifted days whose labels have arrived; register ``credit:2`` with its
    baseline (from a held-out 30 % of those rows) and open its shadow logger."""
    rows = pd.concat(labelled_days, ignore_index=True)
    held = rows.sample(frac=0.3, random_state=seed)
    train = rows.drop(held.index)
    model2 = train_model(train, train["default"].to_numpy(), seed + 1)
    joblib.dump(model2, home / "models" / "credit-2.joblib")
    mv2 = parse_model_version({**model_version_spec(), "version": "2"}, source="demo")
    store.register_model_version(mv2)
    ref = held.copy()
    ref["score"] = model2.predict_proba(ref[list(FEATURES)])[:, 1]
    ref["prediction"] = (ref["score"] >= 0.5).astype(int)
    ref["request_id"] = [f"ref2-{i}" for i in range(len(ref))]
    ref.to_parquet(home / "data" / "reference-2.parquet")
    baseline = create_baseline(mv2, home / "data" / "reference-2.parquet", seed=seed)
    store.save_baseline(mv2.name, mv2.version, baseline.to_document(), baseline.sample_bytes())
    console.print(
        f"[bold]*[/] retrained on {len(train):,} labelled rows of the drifted days: credit:2 answers "
        "every request in shadow from now on (same request ids)"
    )
    return InferenceLogger(mv2, logs, flush_rows=2000, flush_interval_s=1.0), model2


def _command_name() -> str:
    """How this ``raiwatch`` was invoked (``.venv/bin/raiwatch`` after ``make demo``)."""
    argv0 = Path(sys.argv[0])
    if argv0.name != "raiwatch":
        return "raiwatch"
    try:
        return str(argv0.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return "raiwatch" if shutil.which("raiwatch") == str(argv0) else str(argv0)


#: Where the demo's RAI bundle goes under the bundle directory (one folder per model version).
RAI_BUNDLE = Path("credit-1") / "reference"


def rai_config(seed: int) -> dict[str, Any]:
    """The demo's ``rai.yaml`` for the monitored credit model: the seeded demo review's
    components and gates, on this model's features."""
    from rai.demo import DEMO_CONFIG

    categorical = [c for c, kind in FEATURES.items() if kind in ("categorical", "boolean")]
    numeric = [c for c, kind in FEATURES.items() if kind == "numeric"]
    counterfactual = dict(cast(dict[str, Any], DEMO_CONFIG["counterfactual"]))
    counterfactual["features_to_vary"] = [c for c in numeric if c != "age"]
    # boosted trees' probability SHAP is explained model-agnostically: a smaller budget
    explanation = {
        "permutation_repeats": 5,
        "local_rows": 50,
        "background_rows": 20,
        "max_evals": 100,
    }
    return {
        **DEMO_CONFIG,
        "categorical_features": categorical,
        "counterfactual": counterfactual,
        "explanation": explanation,
        "seed": seed,
    }


def build_rai_bundle(home: Path, *, seed: int = 0) -> Path:
    """The RAI bundle of the model the demo monitors (``credit:1``).

    The model is the demo's own ``models/credit.joblib`` (referenced by absolute path in
    the manifest, so the dashboard's what-if editor can load it and re-predict edited
    rows), ``train`` the rows it was trained on and ``test`` 1,500 held-out reference
    rows with their labels. ``has_guarantor`` is passed as 0/1 (DiCE cannot search over
    booleans; the model's one-hot encoder gives identical scores for 0/1 and False/True).
    Returns the bundle's directory.
    """
    from rai.pipeline import build_from_frames

    model_path = (home / "models" / "credit.joblib").resolve()
    flags = [c for c, kind in FEATURES.items() if kind == "boolean"]
    train = pd.read_parquet(home / "data" / "train.parquet")
    test = pd.read_parquet(
        home / "data" / "reference.parquet", columns=[*FEATURES, "default"]
    ).iloc[:1500]
    train[flags], test[flags] = train[flags].astype(int), test[flags].astype(int)
    out = Settings(home=home).bundle_dir / RAI_BUNDLE
    build_from_frames(
        joblib.load(model_path), train, test, config=rai_config(seed), out_dir=out,
        model_reference=str(model_path), progress=False,
    )  # fmt: skip
    return out


def _rai_step(home: Path, seed: int) -> None:
    from rai.bundle import InsightsBundle

    bundle_path = build_rai_bundle(home, seed=seed)
    console.print(
        f"[bold]5.[/] built the Responsible-AI bundle of the monitored model at {bundle_path}; its release gates:"
    )
    for v in InsightsBundle.load(bundle_path).gate_verdicts():
        value = "-" if v.value is None else f"{v.value:.4g}"
        verdict = "[green]PASS[/]" if v.passed else "[red]FAIL[/]"
        scope = f" [{v.gate.sensitive_feature}]" if v.gate.sensitive_feature else ""
        console.print(
            f"  {verdict} "
            + escape(
                f"{v.gate.metric}{scope} = {value} (threshold {v.gate.threshold_text}) {v.reason}"
            )
        )
    console.print(f"  (a release pipeline runs: raiwatch rai gate {bundle_path})")

"""Scheduled Responsible-AI reviews on recent labelled production data.

A monitor with a ``rai_review:`` block builds an insights bundle for each window
whose requests have enough labels: the window's labelled rows are the test set,
the baseline's labelled sample the training set, and the model is the real one
named by the model version's ``model_uri`` (loaded from where the user points —
a trusted choice). The bundle lands under ``<home>/bundles/<monitor>/<window end>``
and the gate verdicts are stored with the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from monitor.baseline.model_input import to_model_input
from monitor.baseline.model_outputs import target_for_model
from monitor.baseline.reference import Baseline
from monitor.ingest.log_rows import LABEL_COLUMN
from monitor.ingest.logstore import LogStore
from monitor.profiles.labelled_rows import LabelledRows
from monitor.spec.model_version import ModelVersion
from monitor.spec.monitor import RaiReviewSpec


def rai_config_for(mv: ModelVersion, settings: dict[str, Any]) -> dict[str, Any]:
    """``rai.yaml`` fields with the data contract filled in from the model version."""
    categorical = [f.name for f in mv.features if f.type in ("categorical", "boolean")]
    return {
        "target": mv.target,
        "task": mv.task,
        "categorical_features": categorical,
        "sensitive_features": list(mv.sensitive_features),
        **settings,
    }


def _frame(mv: ModelVersion, rows: pd.DataFrame, label: pd.Series, model: Any) -> pd.DataFrame:
    """Model inputs in the model's types, and the target in the type the model predicts."""
    out = to_model_input(mv, rows)
    target = mv.target or LABEL_COLUMN
    if mv.task == "regression":
        out[target] = pd.to_numeric(label, errors="coerce").to_numpy()
    else:
        out[target] = target_for_model(label, model)
    return out.reset_index(drop=True)


def review_window(
    mv: ModelVersion,
    baseline: Baseline,
    logs: LogStore,
    start: Any,
    end: Any,
    review: RaiReviewSpec,
    model: Any,
    out_dir: Path,
) -> dict[str, Any]:
    """Build the window's bundle; returns what the run stores about it."""
    from rai.pipeline import build_from_frames

    joiner = LabelledRows(mv, logs.read_labels(mv), keep_features=True)
    for batch in logs.scan(mv, start, end):
        joiner(batch)
    labelled = joiner.frame()
    if len(labelled) < review.min_labels:
        return {
            "status": "skipped",
            "reason": f"{len(labelled)} labelled rows; the review needs at least {review.min_labels}",
        }
    if model is None or not mv.target:
        return {
            "status": "skipped",
            "reason": "the model version needs model_uri and target for an RAI review",
        }
    sample = baseline.profile.reservoir.to_pandas()
    train_rows = sample[sample[mv.target].notna()] if mv.target in sample else sample.iloc[0:0]
    if train_rows.empty:
        return {"status": "skipped", "reason": "the baseline sample has no labelled rows"}
    train = _frame(mv, train_rows, train_rows[mv.target], model)
    test = _frame(mv, labelled, labelled[LABEL_COLUMN], model)
    bundle = build_from_frames(
        model,
        train,
        test,
        config=rai_config_for(mv, review.settings),
        out_dir=out_dir,
        model_reference=mv.model_uri,
    )
    verdicts = bundle.gate_verdicts()
    return {
        "status": "built",
        "bundle": str(out_dir),
        "labelled_rows": len(labelled),
        "gates_passed": all(v.passed for v in verdicts) if verdicts else None,  # None: no gates
        "gates": [{"metric": v.gate.metric, "value": v.value, "passed": v.passed} for v in verdicts],
    }

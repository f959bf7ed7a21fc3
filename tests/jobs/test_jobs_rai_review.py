"""A monitor's ``rai_review``: an insights bundle built from the window's labelled production rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import joblib
import pytest

from jobs.evaluation import EngineEvaluator
from jobs.windows import Window
from monitor.ingest.logstore import LogStore
from monitor.spec.monitor import parse_monitor_spec
from monitor.spec.settings import Settings
from monitor.store import Store
from rai.bundle import InsightsBundle
from tests.monitor.test_model_signals_world import (
    T0,
    credit_baseline,
    credit_model,
    credit_version,
    labels_of,
    logged,
    scored,
)

START = T0.to_pydatetime()
SETTINGS = {
    "components": ["performance", "fairness"],
    "fairness": {"bootstrap": 10},
    "gates": [
        {"metric": "accuracy", "min": 0.6},
        {"metric": "demographic_parity_difference", "sensitive_feature": "sex", "max": 0.3},
    ],
}


def _world(home: Path, labelled_fraction: float) -> tuple[EngineEvaluator, object]:
    joblib.dump(credit_model(), home / "model.joblib")
    mv = credit_version(model_uri=str(home / "model.joblib"))
    store = Store(f"sqlite:///{home}/raiwatch.db")
    store.migrate()
    store.register_model_version(mv)
    baseline = credit_baseline()
    doc = baseline.to_document()
    doc["model_version"] = mv.model_dump(mode="json")
    store.save_baseline(mv.name, mv.version, doc, baseline.sample_bytes())
    window = scored(600, 7)
    logs = LogStore(home)
    logs.ingest_frame(mv, logged(window))
    logs.ingest_labels_frame(mv, labels_of(window.sample(frac=labelled_fraction, random_state=0)))
    spec = parse_monitor_spec({
        "name": "credit-daily", "model": mv.name, "version": mv.version, "window": "1d",
        "signals": {"multivariate_drift": {"enabled": False}, "attribution_drift": {"enabled": False}},
        "rai_review": {"settings": SETTINGS, "min_labels": 200},
    })  # fmt: skip
    return EngineEvaluator(store, Settings(home=home, threads=1)), spec


def test_a_window_with_labels_gets_a_bundle_with_gate_verdicts(tmp_path: Path) -> None:
    evaluator, spec = _world(tmp_path, 0.75)
    outcome = evaluator.evaluate(spec, Window(START, START + dt.timedelta(days=1)))  # type: ignore[arg-type]
    review = outcome.details["rai_review"]
    assert review["status"] == "built", review
    assert review["labelled_rows"] == 450
    bundle = InsightsBundle.load(review["bundle"])
    verdicts = {v.gate.metric: v for v in bundle.gate_verdicts()}
    assert [g["metric"] for g in review["gates"]] == ["accuracy", "demographic_parity_difference"]
    assert review["gates"][0]["value"] == pytest.approx(verdicts["accuracy"].value)
    # the bundle's accuracy is the model's accuracy on exactly the labelled window rows
    perf = {r.metric: r.value for r in outcome.results if r.signal == "performance"}
    assert verdicts["accuracy"].value == pytest.approx(perf["accuracy"], abs=1e-9)


def test_too_few_labels_skip_the_review_and_say_why(tmp_path: Path) -> None:
    evaluator, spec = _world(tmp_path, 0.2)
    outcome = evaluator.evaluate(spec, Window(START, START + dt.timedelta(days=1)))  # type: ignore[arg-type]
    assert outcome.details["rai_review"] == {
        "status": "skipped",
        "reason": "120 labelled rows; the review needs at least 200",
    }


def test_cli_review_of_a_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml
    from typer.testing import CliRunner

    from jobs.cli import app

    for key in [k for k in __import__("os").environ if k.startswith("RAIWATCH_")]:
        monkeypatch.delenv(key)
    _world(tmp_path, 0.75)
    settings = tmp_path / "rai.yaml"
    settings.write_text(yaml.safe_dump({**SETTINGS, "gates": [{"metric": "accuracy", "min": 0.99}]}))
    day = START.date().isoformat()
    args = ["rai", "review", "-m", "credit", "-v", "1", "--start", day, "--end", "2026-10-02",
            "-f", str(settings), "--home", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output  # accuracy 0.72 < 0.99: the gate fails
    assert "FAIL accuracy: value 0.7178" in result.output
    assert "450 labelled rows" in result.output
    few = CliRunner().invoke(app, [*args, "--min-labels", "1000"])
    assert few.exit_code == 2
    assert "450 labelled rows; the review needs at least 1000" in few.output

"""``raiwatch rai build`` and ``raiwatch rai gate`` through typer's CliRunner."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import joblib
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from jobs.cli_rai import app
from rai.bundle import InsightsBundle

runner = CliRunner()


@pytest.fixture(scope="module")
def project(binary_data, tmp_path_factory) -> Path:
    train, test, model = binary_data
    root = tmp_path_factory.mktemp("project")
    joblib.dump(model, root / "model.joblib")
    train.to_csv(root / "train.csv", index=False)
    test.to_parquet(root / "test.parquet", index=False)
    return root


def _write_config(root: Path, name: str, **overrides: object) -> Path:
    config = {
        "model": "model.joblib",
        "train": "train.csv",
        "test": "test.parquet",
        "target": "label",
        "task": "binary",
        "categorical_features": ["colour", "sex"],
        "sensitive_features": ["sex"],
        "components": ["performance", "fairness"],
        "fairness": {"bootstrap": 20},
        "gates": [
            {"metric": "accuracy", "min": 0.7},
            {"metric": "demographic_parity_difference", "sensitive_feature": "sex", "max": 0.5},
        ],
        **overrides,
    }
    path = root / name
    path.write_text(yaml.safe_dump(config))
    return path


def test_build_then_gate_passes(project: Path) -> None:
    config = _write_config(project, "rai.yaml")
    out = project / "bundle"
    result = runner.invoke(app, ["build", "-f", str(config), "--out", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "performance" in result.output and "ok" in result.output
    assert f"bundle written to {out}" in result.output
    bundle = InsightsBundle.load(out)
    assert bundle.manifest["seed"] == 3
    assert bundle.manifest["model"]["reference"].endswith("model.joblib")
    gate = runner.invoke(app, ["gate", str(out)])
    assert gate.exit_code == 0, gate.output
    assert "PASS" in gate.output and "all 2 gate(s) passed" in gate.output
    accuracy = bundle.components["performance"].summary["metrics"]["accuracy"]
    assert f"{accuracy:.4g}" in gate.output


def test_gate_exits_one_when_a_gate_fails(project: Path) -> None:
    config = _write_config(project, "strict.yaml", gates=[{"metric": "accuracy", "min": 0.999}])
    out = project / "strict"
    assert runner.invoke(app, ["build", "-f", str(config), "--out", str(out)]).exit_code == 0
    gate = runner.invoke(app, ["gate", str(out)])
    assert gate.exit_code == 1
    assert "FAIL accuracy: value" in gate.output and "threshold >= 0.999" in gate.output
    assert "is not >= 0.999" in gate.output and "1 of 1 gate(s) failed" in gate.output


def test_bad_input_exits_two_with_the_reason(project: Path, monkeypatch) -> None:
    # if mlflow is installed, its tracking store goes to the temporary project, not the cwd
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")
    config = _write_config(project, "bad.yaml", target="approved")
    result = runner.invoke(app, ["build", "-f", str(config), "--out", str(project / "bad")])
    assert result.exit_code == 2
    assert "Target column 'approved' is missing" in result.output
    missing_model = _write_config(project, "nomodel.yaml", model="absent.joblib")
    result = runner.invoke(app, ["build", "-f", str(missing_model)])
    assert result.exit_code == 2 and "does not exist" in result.output
    mlflow = _write_config(project, "mlflow.yaml", model="runs:/abc/model")
    result = runner.invoke(app, ["build", "-f", str(mlflow)])
    assert result.exit_code == 2
    if importlib.util.find_spec("mlflow") is None:
        assert "pip install mlflow" in result.output
    else:  # installed: the unknown run is named with the fix
        assert "'runs:/abc/model' could not be loaded from MLflow" in result.output
    assert runner.invoke(app, ["gate", str(project)]).exit_code == 2


def test_failed_component_makes_build_exit_three_unless_allowed(project: Path, monkeypatch) -> None:
    from rai import components

    def broken(inputs):
        raise RuntimeError("boom")

    monkeypatch.setitem(components.COMPONENTS, "fairness", broken)
    config = _write_config(project, "broken.yaml")
    result = runner.invoke(
        app, ["build", "-f", str(config), "--out", str(project / "broken"), "--no-cache"]
    )
    assert result.exit_code == 3, result.output
    assert "1 component(s) failed: fairness" in result.output
    assert "allow_failed: true" in result.output
    allowed = runner.invoke(
        app,
        ["build", "-f", str(config), "--out", str(project / "b2"), "--allow-failed", "--no-cache"],
    )
    assert allowed.exit_code == 0, allowed.output
    in_file = _write_config(project, "allowed.yaml", allow_failed=True)
    assert (
        runner.invoke(app, ["build", "-f", str(in_file), "--out", str(project / "b3")]).exit_code
        == 0
    )
    # the gate on the failed component fails with the component's error
    gate = runner.invoke(app, ["gate", str(project / "b2")])
    assert gate.exit_code == 1 and "component 'fairness' failed: RuntimeError: boom" in gate.output


def test_no_gates_is_not_reported_as_passed(project: Path) -> None:
    config = _write_config(project, "nogates.yaml", gates=[])
    out = project / "nogates"
    assert runner.invoke(app, ["build", "-f", str(config), "--out", str(out)]).exit_code == 0
    gate = runner.invoke(app, ["gate", str(out)])
    assert "no gates configured: nothing was judged (this is not a pass)" in gate.output
    assert "passed" not in gate.output.replace("not a pass", "")
    assert "NO GATES CONFIGURED" in (out / "scorecard.html").read_text()


def test_step_cache_reuses_unchanged_components_and_no_cache_forces_all(tmp_path, binary_data):
    train, test, model = binary_data
    joblib.dump(model, tmp_path / "model.joblib")
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_parquet(tmp_path / "test.parquet", index=False)

    def build(name: str, *extra: str, **overrides: object) -> InsightsBundle:
        config = _write_config(tmp_path, f"{name}.yaml", **overrides)
        out = tmp_path / name
        result = runner.invoke(app, ["build", "-f", str(config), "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        return InsightsBundle.load(out)

    first = build("first")
    assert first.manifest["steps"] == {"performance": "computed", "fairness": "computed"}
    again = build("again")
    assert again.manifest["steps"] == {"performance": "reused", "fairness": "reused"}
    assert again.components["fairness"].summary == first.components["fairness"].summary
    pd.testing.assert_frame_equal(
        again.components["fairness"].tables["group_metrics"],
        first.components["fairness"].tables["group_metrics"],
    )
    gates_only = build("gates", gates=[{"metric": "accuracy", "min": 0.99}])
    assert set(gates_only.manifest["steps"].values()) == {"reused"}
    assert not gates_only.gate_verdicts()[0].passed  # the new gate is judged
    fairness_changed = build("fair", fairness={"bootstrap": 21})
    assert fairness_changed.manifest["steps"] == {"performance": "reused", "fairness": "computed"}
    forced = build("forced", "--no-cache")
    assert set(forced.manifest["steps"].values()) == {"computed"}
    assert not (tmp_path / "forced").joinpath(".rai_cache").exists()

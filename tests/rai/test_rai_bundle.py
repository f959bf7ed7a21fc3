"""The bundle round-trips, is deterministic, and stores failed components explicitly."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
from conftest import base_config

from rai.bundle import SCHEMA_VERSION, InsightsBundle
from rai.components import COMPONENTS
from rai.data import frame_fingerprint
from rai.errors import BundleError
from rai.pipeline import build_from_frames


@pytest.fixture(scope="module")
def built(binary_data, tmp_path_factory):
    train, test, model = binary_data
    first = tmp_path_factory.mktemp("first")
    second = tmp_path_factory.mktemp("second")
    bundle = build_from_frames(model, train, test, config=base_config(), out_dir=first)
    build_from_frames(model, train, test, config=base_config(), out_dir=second)
    return bundle, first, second


def test_every_component_ok_and_manifest_complete(built, binary_data) -> None:
    bundle, path, _ = built
    train, test, _ = binary_data
    assert {n: r.status for n, r in bundle.components.items()} == dict.fromkeys(COMPONENTS, "ok")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["seed"] == 0
    assert manifest["data"]["train"]["sha256"] == frame_fingerprint(train)
    assert manifest["data"]["test"]["rows"] == len(test)
    assert len(manifest["model"]["sha256"]) == 64
    assert manifest["libraries"]["fairlearn"] and manifest["libraries"]["shap"]
    assert set(manifest["timings"]["components"]) == set(COMPONENTS)
    assert manifest["config"]["target"] == "label"
    assert not list(path.rglob("*.pkl")) and not list(path.rglob("*.joblib"))


def test_round_trip_gives_back_the_same_content(built) -> None:
    bundle, path, _ = built
    loaded = InsightsBundle.load(path)
    assert loaded.manifest == json.loads(json.dumps(bundle.manifest))
    assert loaded.config == bundle.config
    for name, result in bundle.components.items():
        again = loaded.components[name]
        assert again.summary == result.summary
        assert set(again.tables) == set(result.tables)
        for table, frame in result.tables.items():
            pd.testing.assert_frame_equal(again.tables[table], frame.reset_index(drop=True))


def test_same_inputs_and_seed_give_the_same_bundle(built) -> None:
    _, first, second = built
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for relative in files:
        if relative.name == "manifest.json":
            continue
        digest = [
            hashlib.sha256((root / relative).read_bytes()).hexdigest() for root in (first, second)
        ]
        assert digest[0] == digest[1], relative
    manifests = [json.loads((root / "manifest.json").read_text()) for root in (first, second)]
    for manifest in manifests:
        manifest.pop("timings")
    assert manifests[0] == manifests[1]


def test_failing_component_is_stored_as_failed_and_others_complete(
    binary_data, tmp_path, monkeypatch
) -> None:
    train, test, model = binary_data

    def broken(inputs):
        raise RuntimeError("numerical trouble")

    monkeypatch.setitem(COMPONENTS, "performance", broken)
    config = base_config(
        components=["performance", "fairness"],
        gates=[
            {"metric": "accuracy", "min": 0.5},
            {"metric": "demographic_parity_difference", "max": 1.0},
        ],
    )
    build_from_frames(model, train, test, config=config, out_dir=tmp_path)
    loaded = InsightsBundle.load(tmp_path)
    assert loaded.components["performance"].status == "failed"
    assert loaded.components["performance"].error.startswith("RuntimeError: numerical trouble")
    assert loaded.components["fairness"].ok
    accuracy, parity = loaded.gate_verdicts()
    assert not accuracy.passed and "component 'performance' failed: RuntimeError" in accuracy.reason
    assert parity.passed


def test_loading_a_non_bundle_names_the_fix(tmp_path) -> None:
    with pytest.raises(BundleError, match=r"manifest\.json is missing.*raiwatch rai build"):
        InsightsBundle.load(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(BundleError, match="schema version 99"):
        InsightsBundle.load(tmp_path)


def test_scorecard_shows_gates_and_sections(built) -> None:
    bundle, path, _ = built
    page = (path / "scorecard.html").read_text()
    for title in (
        "Release gates",
        "Model performance",
        "Fairness",
        "Top features",
        "Worst error cohorts",
        "Causal effects",
        "Example counterfactuals",
    ):
        assert title in page
    accuracy = bundle.components["performance"].summary["metrics"]["accuracy"]
    assert f"{accuracy:.4g}" in page
    assert (path / "scorecard.pdf").read_bytes().startswith(b"%PDF")

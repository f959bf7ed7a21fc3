"""The RAI review page under AppTest on the demo bundle, a failed component and no bundle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.dashboards.apptest import frame_with, no_exception, run_page, texts


@pytest.fixture
def bundle_env(demo_bundle: Path, empty_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAIWATCH_BUNDLE_DIR", str(demo_bundle.parent))
    return demo_bundle


def test_rai_page_shows_gates_and_every_component(bundle_env: Path) -> None:
    at = run_page("rai")
    no_exception(at)
    shown = texts(at)
    gates = frame_with(at, "verdict").set_index("gate")
    assert gates.loc["demographic_parity_difference", "verdict"] == "✅ pass"
    assert "All 5 gates pass" in shown
    groups = frame_with(at, "selection_rate")
    assert {"female", "male"} <= set(groups.index)
    cohorts = frame_with(at, "error_coverage")
    assert cohorts["error_rate"].is_monotonic_decreasing
    assert "Every refutation passed." in shown
    assert "The model is not loadable here" in shown  # the demo bundle has no model reference
    assert (
        len(at.get("plotly_chart")) >= 6
    )  # disparity, groups, heatmap, MI, importance, local, effects


def test_rai_page_local_attributions_follow_the_chosen_row(bundle_env: Path) -> None:
    at = run_page("rai")
    at.selectbox(key="local_row").set_value(3).run()
    no_exception(at)
    at.selectbox(key="cf_row").set_value(at.selectbox(key="cf_row").options[-1]).run()
    no_exception(at)


def test_failed_component_says_what_happened(
    bundle_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken" / "credit-broken"
    shutil.copytree(bundle_env, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["components"]["causal"] = {
        "status": "failed",
        "error": "ValueError: treatment 'debt_ratio' is constant",
        "files": [],
    }
    (broken / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("RAIWATCH_BUNDLE_DIR", str(broken.parent))
    at = run_page("rai")
    no_exception(at)
    shown = texts(at)
    assert "Causal failed" in shown and "treatment 'debt_ratio' is constant" in shown
    assert "raiwatch rai build" in shown


def test_no_bundle_says_how_to_build_one(empty_env: Path) -> None:
    at = run_page("rai")
    no_exception(at)
    assert "No insights bundle" in texts(at)


def test_bundles_are_found_wherever_raiwatch_writes_them(tmp_path: Path) -> None:
    """``rai build --out``, ``rai review`` (``adhoc/<name>``) and scheduled reviews
    (``<monitor>/<window end>``) all show up; a bundle's own folders are not searched."""
    from dashboards.rai_data import bundle_label, find_bundles

    root = tmp_path / "bundles"
    places = ["credit-demo", "adhoc/credit-1-20261005T000000Z", "credit-daily/20261005T000000Z"]
    for place in places:
        (root / place / "components" / "nested").mkdir(parents=True)
        (root / place / "manifest.json").write_text("{}")
        (root / place / "components" / "nested" / "manifest.json").write_text("{}")
    (root / "a" / "b" / "c" / "d" / "e").mkdir(parents=True)
    (root / "a" / "b" / "c" / "d" / "e" / "manifest.json").write_text("{}")  # too deep
    found = find_bundles(str(root))
    assert found == sorted(str(root / p) for p in places)
    assert bundle_label(found[1], str(root)) == "credit-daily / 20261005T000000Z"
    assert find_bundles(str(root / "credit-demo")) == [str(root / "credit-demo")]
    assert find_bundles(str(tmp_path / "missing")) == []


def test_a_scheduled_review_bundle_opens_from_its_link(
    demo_bundle: Path, empty_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "bundles"
    scheduled = root / "credit-daily" / "20261005T000000Z"
    shutil.copytree(demo_bundle, scheduled)
    shutil.copytree(demo_bundle, root / "adhoc" / "credit-1")
    monkeypatch.setenv("RAIWATCH_BUNDLE_DIR", str(root))
    at = run_page("rai", bundle=str(scheduled))
    no_exception(at)
    assert at.sidebar.selectbox[0].value == str(scheduled)
    assert at.sidebar.selectbox[0].format_func(str(scheduled)) == "credit-daily / 20261005T000000Z"
    assert "gates pass" in texts(at)


def test_the_demo_bundle_reviews_the_monitored_model_and_its_what_if_predicts(
    monitored_bundle: Path, demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundle ``raiwatch demo`` builds references the model the demo monitors (the same
    file, by path and sha256), so the what-if editor is enabled and shows that model's class
    and score for the row it starts from, the chosen row as it was (computed here
    independently with joblib)."""
    import hashlib

    import joblib

    model_file = (demo_home / "models" / "credit.joblib").resolve()
    manifest = json.loads((monitored_bundle / "manifest.json").read_text())
    assert manifest["model"]["reference"] == str(model_file)
    assert manifest["model"]["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    monkeypatch.setenv("RAIWATCH_HOME", str(demo_home))
    monkeypatch.delenv("RAIWATCH_DATABASE_URL", raising=False)
    monkeypatch.setenv("RAIWATCH_BUNDLE_DIR", str(demo_home / "bundles"))
    at = run_page("rai", bundle=str(monitored_bundle))
    no_exception(at)
    shown = texts(at)
    assert "All 5 gates pass" in shown
    assert "The model is not loadable here" not in shown
    rows = pd.read_parquet(monitored_bundle / "counterfactual" / "queries.parquet")
    start = rows[rows["row"] == at.selectbox(key="cf_row").value][manifest["features"]["all"]]
    assert len(start) == 1 and at.data_editor(key="what_if").value.equals(
        start.reset_index(drop=True)
    )
    model = joblib.load(model_file)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Prediction for the edited row"] == str(model.predict(start)[0])
    score = float(model.predict_proba(start)[0, -1])
    assert metrics["Score P(1) for the edited row"] == f"{score:.4f}"

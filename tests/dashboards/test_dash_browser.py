"""The real app in headless Chromium: every page renders without a Streamlit exception.

Screenshots land in ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.cli_dashboard import dashboard_command
from tests.dashboards.browser import Browser, chromium_path, free_port, wait_http

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None, reason="chromium is not installed (apt-get install -y chromium)"
    ),
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PAGES = [
    ("overview", "/", "No traffic"),
    ("model", "/model?model=credit&version=1", "latest: alert"),
    ("model-failed-run", "/model?model=churn&version=2", "failed"),
    ("model-segment", "/model?model=credit&version=1&segment=employment%3Dretired", "Showing segment"),
    ("deep-link", "/?model=credit&version=1&monitor=credit-daily", "latest: alert"),
    ("alerts", "/alerts", "Signals firing"),
    ("rai", "/rai", "gates pass"),
]
FORBIDDEN = ("Traceback", "StreamlitAPIException", "streamlit.errors")


def _serve(home: Path, bundle_dir: Path | None = None) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "RAIWATCH_HOME": str(home)}
    env.pop("RAIWATCH_DATABASE_URL", None)
    env.pop("RAIWATCH_BUNDLE_DIR", None)
    if bundle_dir is not None:
        env["RAIWATCH_BUNDLE_DIR"] = str(bundle_dir)
    cmd = dashboard_command(port, "127.0.0.1")  # what `raiwatch dashboard` runs
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", 60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def app_url(demo_home: Path, monitored_bundle: Path) -> Iterator[str]:
    """The dashboard on the demo home, with the RAI bundle the demo builds of the model it
    monitors (under the home's default bundle directory)."""
    yield from _serve(demo_home)


@pytest.fixture(scope="module")
def lifecycle_url(lifecycle_home: Path) -> Iterator[str]:
    yield from _serve(lifecycle_home)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    binary = chromium_path()
    assert binary is not None
    chrome = Browser(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield chrome
    finally:
        chrome.close()


@pytest.mark.parametrize(("name", "path", "marker"), PAGES, ids=[p[0] for p in PAGES])
def test_page_renders_without_exception(
    app_url: str, browser: Browser, name: str, path: str, marker: str
) -> None:
    dom = browser.open(app_url + path, marker, timeout_s=90)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.screenshot(ARTIFACTS / f"dashboard-{name}.png")
    for text in FORBIDDEN:
        assert text not in dom, f"{text} on {path}"
    assert "Page not found" not in dom
    header = browser.evaluate(
        "(document.querySelector('[data-testid=\"stHeader\"]') || {innerText: ''}).innerText"
    )
    assert "Deploy" not in header  # toolbarMode=minimal


@pytest.mark.parametrize(
    ("tab", "marker"),
    [
        ("Drift", "Drifted in this window"),
        ("Performance", "rows per window"),
        ("Change detection", "First detection"),
        ("Segments", "Each cell is the worst status of a signal in a segment"),
    ],
)
def test_model_tabs_render_their_charts(
    app_url: str, browser: Browser, tab: str, marker: str
) -> None:
    """Performance panels and the error-rate chart, as a person sees them after a click."""
    browser.resize(3600)
    try:
        browser.open(app_url + "/model?model=credit&version=1", "What is wrong", timeout_s=90)
        browser.click_tab(tab)
        assert marker in browser.main_text()
        ARTIFACTS.mkdir(exist_ok=True)
        browser.screenshot(ARTIFACTS / f"dashboard-model-{tab.lower().replace(' ', '-')}.png")
        assert browser.evaluate("document.querySelectorAll('.js-plotly-plot').length") >= 1
    finally:
        browser.resize(1000)


def test_lifecycle_page_renders_the_verdict_and_its_chart(lifecycle_url: str, browser: Browser) -> None:
    """The champion/challenger page on the lifecycle demo, as a person sees it."""
    dom = browser.open(lifecycle_url + "/lifecycle", "Verdict: better", timeout_s=90)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.screenshot(ARTIFACTS / "dashboard-lifecycle.png")
    for text in FORBIDDEN:
        assert text not in dom, f"{text} on /lifecycle"
    shown = browser.main_text()
    assert "next retraining due" in shown and "Champion / challenger" in shown
    assert browser.evaluate("document.querySelectorAll('.js-plotly-plot').length") >= 1


def _metrics(text: str) -> dict[str, str]:
    """``label -> value`` of the what-if metrics in the page text."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    wanted = ("Prediction for the edited row", "Score P(1) for the edited row")
    return {line: lines[i + 1] for i, line in enumerate(lines[:-1]) if line in wanted}


def test_what_if_editor_repredicts_an_edited_row(
    app_url: str, browser: Browser, monitored_bundle: Path, demo_home: Path
) -> None:
    """In the demo's bundle (the monitored model), type a counterfactual's values into the
    what-if editor of its row: the page's prediction flips to the counterfactual's class and
    its score is the model's own score of the edited row (computed here with joblib)."""
    import joblib
    import pandas as pd

    features = list(
        pd.read_json(monitored_bundle / "manifest.json", typ="series")["features"]["all"]
    )
    asked = pd.read_parquet(monitored_bundle / "counterfactual" / "queries.parquet")
    cfs = pd.read_parquet(monitored_bundle / "counterfactual" / "counterfactuals.parquet")
    row = int(cfs["row"].min())  # the row the page opens on
    start = asked[asked["row"] == row][features].reset_index(drop=True)
    cf = cfs[cfs["row"] == row].sort_values(["n_changed", "cf_index"]).iloc[0]
    changed = [f for f in features if cf[f] != start.loc[0, f]]
    assert changed and all(pd.api.types.is_numeric_dtype(start[f]) for f in changed)
    model = joblib.load(demo_home / "models" / "credit.joblib")
    edited = start.copy()
    for f in changed:
        edited.loc[0, f] = float(f"{cf[f]:.6g}")
    before, after = model.predict(start)[0], model.predict(edited)[0]
    assert before != after  # the counterfactual is valid: it has the other class

    browser.resize(2400)
    try:
        browser.open(app_url + "/rai", "gates pass", timeout_s=120)
        browser.click_tab("Counterfactuals")
        shown = _metrics(browser.main_text())
        assert shown["Prediction for the edited row"] == str(before)
        assert shown["Score P(1) for the edited row"] == f"{model.predict_proba(start)[0, -1]:.4f}"
        for f in changed:
            browser.edit_grid_cell(".st-key-what_if", features.index(f), f"{cf[f]:.6g}")
        text = browser.main_text()
        ARTIFACTS.mkdir(exist_ok=True)
        browser.screenshot(ARTIFACTS / "dashboard-rai-what-if.png")
        shown = _metrics(text)
        assert shown["Prediction for the edited row"] == str(after), text[text.find("What if") :][
            :400
        ]
        assert shown["Score P(1) for the edited row"] == f"{model.predict_proba(edited)[0, -1]:.4f}"
    finally:
        browser.resize(1000)

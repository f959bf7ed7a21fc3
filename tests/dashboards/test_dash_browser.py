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
    if bundle_dir is not None:
        env["RAIWATCH_BUNDLE_DIR"] = str(bundle_dir)
    env.pop("RAIWATCH_DATABASE_URL", None)
    cmd = dashboard_command(port, "127.0.0.1")  # what `raiwatch dashboard` runs
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", 60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def app_url(demo_home: Path, demo_bundle: Path) -> Iterator[str]:
    yield from _serve(demo_home, demo_bundle.parent)


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

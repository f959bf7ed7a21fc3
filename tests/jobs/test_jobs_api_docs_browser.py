"""``/docs`` and ``/redoc`` render in headless Chromium from this service's own assets.

Screenshots land in ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from jobs.api import create_app
from monitor.ingest.logstore import LogStore
from monitor.store import Store
from tests.dashboards.browser import Browser, chromium_path, free_port, wait_http

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed"),
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("api")
    store = Store(f"sqlite:///{home / 'raiwatch.db'}")
    store.migrate()
    app = create_app(store, LogStore(home), max_request_bytes=1_000_000)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.dispose()


@pytest.mark.parametrize(
    ("page", "marker"), [("/docs", "/api/v1/runs"), ("/redoc", "Download OpenAPI specification")]
)
def test_api_docs_render_offline(api_url: str, tmp_path: Path, page: str, marker: str) -> None:
    binary = chromium_path()
    assert binary is not None
    browser = Browser(binary, tmp_path / "profile")
    try:
        deadline_text = _open(browser, api_url + page, marker)
        ARTIFACTS.mkdir(exist_ok=True)
        browser.screenshot(ARTIFACTS / f"api{page.replace('/', '-')}.png")
        assert "raiwatch" in deadline_text
        # every script, stylesheet and request is local; ReDoc's footer logo (an <img> from
        # cdn.redoc.ly) is the one thing missing offline, and it is cosmetic
        resources = browser.evaluate(
            "performance.getEntriesByType('resource')"
            ".filter(e => e.initiatorType !== 'img').map(e => e.name).join(' ')"
        )
        assert resources and all(r.startswith(api_url) for r in str(resources).split()), resources
    finally:
        browser.close()


def _open(browser: Browser, url: str, marker: str, timeout_s: float = 60) -> str:
    import time

    browser.call("Page.navigate", url=url)
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        time.sleep(0.5)
        text = str(browser.evaluate("document.body ? document.body.innerText : ''") or "")
        if marker in text:
            time.sleep(1)
            return text
    raise TimeoutError(f"{url} did not show {marker!r}; page text: {text[:300]!r}")

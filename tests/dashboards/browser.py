"""A tiny Chrome DevTools Protocol driver for headless Chromium (no Playwright needed).

Chromium's one-shot ``--screenshot`` does not wait for Streamlit's websocket to
deliver a page, so the browser test drives Chromium over CDP instead: open a
URL, wait until the page's text shows a marker and Streamlit is idle, then read
the DOM and save a screenshot.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
]
BUSY_JS = "!!document.querySelector('[data-testid=\"stStatusWidget\"]') || !!document.querySelector('[data-testid=\"stSkeleton\"]')"


# the page's own content, not the sidebar menu (whose page titles show before the page runs)
MAIN_TEXT_JS = "(document.querySelector('[data-testid=\"stMain\"]') || {innerText: ''}).innerText"


def chromium_path() -> str | None:
    """Debian's ``chromium`` (or ``chromium-browser``), if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout_s: float) -> None:
    """Wait until ``url`` answers (raises ``TimeoutError`` with the URL)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s")


class Browser:
    """Headless Chromium with one tab driven over CDP."""

    def __init__(self, binary: str, profile_dir: Path) -> None:
        self.port = free_port()
        flags = [
            *CHROMIUM_FLAGS,
            f"--remote-debugging-port={self.port}",
            f"--user-data-dir={profile_dir}",
        ]
        self.process = subprocess.Popen(
            [binary, *flags, "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_http(f"http://127.0.0.1:{self.port}/json/version", 30)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=5) as resp:
            tab = next(t for t in json.load(resp) if t["type"] == "page")
        self.ws: ClientConnection = connect(tab["webSocketDebuggerUrl"], max_size=64 * 2**20)
        self._ids = itertools.count(1)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=1400,
            height=1000,
            deviceScaleFactor=1,
            mobile=False,
        )

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one CDP command and return its result (events in between are skipped)."""
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv(timeout=60))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"CDP {method} failed: {reply['error']}")
                return dict(reply.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, marker: str, *, timeout_s: float = 60.0, settle_s: float = 1.5) -> str:
        """Open ``url`` and wait until its main area shows ``marker`` and Streamlit is idle;
        returns the DOM."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout_s
        text = ""
        while time.monotonic() < deadline:
            time.sleep(0.5)
            text = self.evaluate(MAIN_TEXT_JS) or ""
            if marker in text and not self.evaluate(BUSY_JS):
                time.sleep(settle_s)  # let Plotly finish drawing
                return str(self.evaluate("document.documentElement.outerHTML"))
        raise TimeoutError(
            f"{url} did not show {marker!r} within {timeout_s:.0f} s; page text: {text[:500]!r}"
        )

    def click_tab(self, label: str, *, settle_s: float = 4.0) -> None:
        """Click the tab whose text contains ``label`` like a person would (mouse events)."""
        box = self.evaluate(
            "(() => { const e = Array.from(document.querySelectorAll('[role=tab]'))"
            f".find(e => e.innerText.includes({json.dumps(label)})); if (!e) return null;"
            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        if box is None:
            raise LookupError(f"no tab labelled {label!r} on the page")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left",
                      clickCount=1)  # fmt: skip
        time.sleep(settle_s)

    def press(self, key: str, *, text: str | None = None) -> None:
        """One key press (down and up) sent to the focused element, as a keyboard would."""
        codes = {"Enter": ("Enter", 13), "ArrowRight": ("ArrowRight", 39), ".": ("Period", 190),
                 "-": ("Minus", 189)}  # fmt: skip
        code, vk = codes.get(key, (f"Digit{key}", ord(key)) if key.isdigit() else (key, 0))
        for kind in ("keyDown", "keyUp"):
            params: dict[str, Any] = {
                "type": kind,
                "key": key,
                "code": code,
                "windowsVirtualKeyCode": vk,
            }
            if kind == "keyDown" and text is not None:
                params["text"] = text
            self.call("Input.dispatchKeyEvent", **params)

    def edit_grid_cell(
        self, selector: str, column: int, value: str, *, settle_s: float = 4.0
    ) -> None:
        """Type ``value`` into the first row's cell ``column`` of the data editor inside
        ``selector``: click its first cell, arrow right, type, Enter (what a person does)."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector + ' [data-testid=stDataFrame]')});"
            " if (!e) return null; const r = e.getBoundingClientRect(); return [r.x, r.y]; })()"
        )
        if box is None:
            raise LookupError(f"no data editor in {selector!r}")
        x, y = box[0] + 20, box[1] + 35 + 17  # header row, then the middle of the first row
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        time.sleep(0.5)
        for _ in range(column):
            self.press("ArrowRight")
            time.sleep(0.1)
        for char in value:
            self.press(char, text=char)
            time.sleep(0.05)
        self.press("Enter", text="\r")
        deadline = time.monotonic() + 60
        time.sleep(1.0)
        while self.evaluate(BUSY_JS) and time.monotonic() < deadline:
            time.sleep(0.3)
        time.sleep(settle_s)

    def resize(self, height: int) -> None:
        """A taller window, so a long page is captured whole."""
        self.call("Emulation.setDeviceMetricsOverride", width=1400, height=height,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip

    def main_text(self) -> str:
        return str(self.evaluate(MAIN_TEXT_JS) or "")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

"""Start ``raiwatch serve`` in a subprocess for crash tests and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SERVE = "import typer; from jobs.cli_service import serve; typer.run(serve)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServiceProcess:
    """One ``serve`` process with short timings; ``env`` adds variables."""

    def __init__(self, home: Path, db_url: str, env: dict[str, str] | None = None,
                 extra_args: list[str] | None = None) -> None:  # fmt: skip
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / f"serve-{self.port}.log"
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), "RAIWATCH_DATABASE_URL": db_url,
                    "RAIWATCH_HOME": str(home), **(env or {})}  # fmt: skip
        args = ["--port", str(self.port), "--backoff-base", "0.05", "--poll-interval", "0.1",
                "--reconcile-interval", "0.5", "--run-lease", "1", "--delivery-lease", "2",
                *(extra_args or [])]  # fmt: skip
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", SERVE, *args], cwd=ROOT, env=full_env,
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve not healthy: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

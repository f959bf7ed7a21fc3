"""A real HTTP webhook receiver on loopback for tests, with scripted failure modes.

``Receiver.script`` is a list of behaviours consumed one per request (then
``"ok"``): ``"ok"`` (204), ``"500"``, ``"hang"`` (sleeps ``hang_s`` before
answering), ``"close"`` (closes the connection without a response).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    outcome: str


@dataclass
class Receiver:
    script: list[str] = field(default_factory=list)
    hang_s: float = 2.0
    host: str = "127.0.0.1"  # any loopback address (127.0.0.0/8)
    port: int = 0
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        receiver = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._lock:
                    outcome = receiver.script.pop(0) if receiver.script else "ok"
                    receiver.received.append(Received(dict(self.headers.items()), body, outcome))
                if outcome == "close":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if outcome == "hang":
                    time.sleep(receiver.hang_s)
                code = 500 if outcome == "500" else 204
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((self.host, self.port), _Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://{self.host}:{self._server.server_address[1]}/hook"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def ids(self) -> list[str]:
        with self._lock:
            return [r.headers["webhook-id"] for r in self.received]

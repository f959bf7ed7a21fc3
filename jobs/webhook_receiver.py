"""An example webhook receiver: verifies signatures, drops duplicate ids, prints events.

Run it next to ``raiwatch serve`` and point a monitor's webhook at it::

    export RAIWATCH_HOOK_SECRET=whsec_c2VjcmV0
    python -m jobs.webhook_receiver --port 9000 --secret-env RAIWATCH_HOOK_SECRET

Only the standard library and :mod:`jobs.webhook_signature` are used, so the
two files can be copied into any project. A production receiver should
persist seen ``webhook-id`` values (delivery is at-least-once), answer 2xx
fast and do the real work (e.g. start a retraining pipeline) asynchronously.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from jobs.webhook_signature import WebhookVerificationError, verify_webhook

Handler = Callable[[str, dict[str, Any]], None]


def print_event(msg_id: str, payload: dict[str, Any]) -> None:
    """Default action: print one line per event."""
    data = payload.get("data", {})
    signals = ", ".join(s["signal"] for s in data.get("signals", []))
    print(f"{payload.get('type')} {data.get('model')}:{data.get('version')} "
          f"monitor={data.get('monitor')} run={data.get('run_id')} signals=[{signals}] id={msg_id}",
          flush=True)  # fmt: skip


def make_server(
    host: str, port: int, secret: str, on_event: Handler = print_event
) -> ThreadingHTTPServer:
    """A threading HTTP server that verifies and deduplicates webhooks."""
    seen: set[str] = set()
    lock = threading.Lock()

    class _Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            try:
                msg_id = verify_webhook(secret, dict(self.headers.items()), body)
            except WebhookVerificationError as err:
                self.send_error(400, str(err))
                return
            with lock:
                duplicate = msg_id in seen
                seen.add(msg_id)
            if not duplicate:
                on_event(msg_id, json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return ThreadingHTTPServer((host, port), _Receiver)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret-env", default="RAIWATCH_HOOK_SECRET",
                        help="environment variable holding the endpoint secret")  # fmt: skip
    args = parser.parse_args(argv)
    secret = os.environ.get(args.secret_env)
    if not secret:
        parser.error(f"set the secret in ${args.secret_env} (never on the command line)")
    server = make_server(args.host, args.port, secret)
    print(f"listening on http://{args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

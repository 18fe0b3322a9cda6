"""Shared plumbing of the fake model APIs (anthropic_api.py, openai_responses_api.py, gemini_api.py).

Each fake is a script: ``python <fake>.py PORT LOG_PATH READY_PATH``. It serves on
127.0.0.1:PORT, appends one JSON line per model request to LOG_PATH (what was asked, which step
was answered and the usage it reported, so a test can compare the CLI's parsed totals with what
was really sent), and creates READY_PATH once it listens. The contract tests start it inside
``unshare -n`` next to the real CLI, so nothing can leave the machine.

Every fake plays the same two-step script: while the conversation holds no tool result yet,
answer with one tool call that runs ``printf made-by-<cli> > contract-output.txt`` in the cwd;
then answer with a final text.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TARGET = "contract-output.txt"

Handler = Callable[["Request"], None]


class Request:
    def __init__(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        self.handler = handler
        self.path = handler.path
        self.method = handler.command
        self.body = body

    def json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.handler.send_response(status)
        self.handler.send_header("Content-Type", "application/json")
        self.handler.send_header("Content-Length", str(len(data)))
        self.handler.end_headers()
        self.handler.wfile.write(data)

    def sse(self, events: list[tuple[str | None, Any]]) -> None:
        """Send ``(event name or None, data)`` pairs as a text/event-stream, then close."""
        self.handler.send_response(200)
        self.handler.send_header("Content-Type", "text/event-stream")
        self.handler.send_header("Cache-Control", "no-cache")
        self.handler.send_header("Connection", "close")
        self.handler.end_headers()
        for name, data in events:
            chunk = (f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n"
            self.handler.wfile.write(chunk.encode())
            self.handler.wfile.flush()
        self.handler.close_connection = True


class Log:
    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        with self.lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


def serve(route: Callable[[Request, Log], None]) -> None:
    port, log_path, ready_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    log = Log(log_path)

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # the stdlib's name
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            try:
                route(Request(self, body), log)
            except Exception as exc:  # a fake must answer something
                log.write({"path": self.path, "fake_error": repr(exc)})
                Request(self, body).json(500, {"error": {"message": repr(exc)}})

        do_GET = do_POST = _handle  # the stdlib's names

    server = ThreadingHTTPServer(("127.0.0.1", port), H)
    with open(ready_path, "w", encoding="utf-8") as fh:
        fh.write("ready")
    server.serve_forever()

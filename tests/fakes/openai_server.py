"""A fake OpenAI-compatible chat-completions server on loopback (``POST /v1/chat/completions``).

It answers from a script: by default first a ``write_file`` tool call (``fake-output.txt`` with
``made-by-openai``), then a final message. Usage: first response prompt 100 (30 of them cached)
/ completion 20, second prompt 150 / completion 10. ``loop=True`` answers a tool call forever
(for max-turns and budget tests). Every request body and Authorization header is recorded.
Non-streaming JSON, the shape Ollama, vLLM, LM Studio and llama.cpp's server return.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_SCRIPT: list[dict[str, Any]] = [
    {
        "message": {
            "role": "assistant",
            "content": "I will write the file.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {
                        "name": "write_file",
                        "arguments": json.dumps({"path": "fake-output.txt", "content": "made-by-openai\n"}),
                    },
                }
            ],
        },
        "finish_reason": "tool_calls",
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": 20,
            "total_tokens": 120,
            "prompt_tokens_details": {"cached_tokens": 30},
        },
    },
    {
        "message": {"role": "assistant", "content": "Done: the file is written."},
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 150, "completion_tokens": 10, "total_tokens": 160},
    },
]


def tool_call_step(name: str, arguments: dict[str, Any], call_id: str = "call_x") -> dict[str, Any]:
    return {
        "message": {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
            ],
        },
        "finish_reason": "tool_calls",
        "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100},
    }


class FakeOpenAI:
    def __init__(self, script: list[dict[str, Any]] | None = None, *, loop: bool = False, model: str = "") -> None:
        self.script = list(script if script is not None else DEFAULT_SCRIPT)
        self.loop = loop
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # the stdlib's name
                pass

            def do_POST(self) -> None:  # the stdlib's name
                if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    fake.auth.append(self.headers.get("Authorization"))
                    index = len(fake.requests) - 1
                self._send(200, fake.response(index, body))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def response(self, index: int, body: dict[str, Any]) -> dict[str, Any]:
        if self.loop:
            step = tool_call_step("list_files", {"path": "."}, call_id=f"call_{index}")
        else:
            step = self.script[min(index, len(self.script) - 1)]
        return {
            "id": f"chatcmpl-{index}",
            "object": "chat.completion",
            "created": 1764000000,
            "model": self.model or body.get("model", ""),
            "choices": [{"index": 0, "message": step["message"], "finish_reason": step["finish_reason"]}],
            "usage": step["usage"],
        }

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

"""A fake Telegram Bot API server on loopback, speaking the real wire format.

Routes ``POST /bot<token>/<method>``; parses ``application/x-www-form-urlencoded``
bodies (what python-telegram-bot sends; nested objects arrive JSON-encoded inside
a field), JSON bodies and query strings; answers ``{"ok": true, "result": ...}``.
``getUpdates`` honours ``offset`` (earlier updates are confirmed and dropped) and
``timeout`` (waits at most ``max_wait`` seconds so tests stay fast). A token not
in ``tokens`` gets ``401 {"ok": false, "error_code": 401, "description": "Unauthorized"}``.

It refuses what the real Bot API refuses, with its answers: an unknown method is
``404 Not Found``; ``400 Bad Request: ...`` for text over 4096 characters ("message is too
long"), an inline button URL on a loopback host ("wrong HTTP URL"), an edit of a message it
never sent ("message to edit not found") and an edit to the text and markup the message
already has ("message is not modified"). ``@channel`` chat ids resolve to a channel's
numeric id, as the real API does.

Tests push updates with ``press()`` / ``message()`` / ``push_update()`` and inspect
``calls`` (a list of ``Call(token, method, params)``).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAX_TEXT = 4096
KNOWN_METHODS = {
    "getMe",
    "getUpdates",
    "deleteWebhook",
    "setMyCommands",
    "sendMessage",
    "editMessageText",
    "answerCallbackQuery",
    "deleteMessage",
}
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
BOT_USER = {"id": 999000, "is_bot": True, "first_name": "Mesa Bot", "username": "mesa_test_bot"}


@dataclass
class Call:
    token: str
    method: str
    params: dict[str, Any]


def _decode(value: str) -> Any:
    """Form fields holding objects (reply_markup, allowed_updates) are JSON-encoded; plain ones are not."""
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class BadRequest(Exception):
    """The Bot API's 400 answer: ``description`` is the text after "Bad Request: "."""


def _chat(chat_id: Any) -> dict[str, Any]:
    """The chat object for ``chat_id``: a number, or ``@username`` of a public channel."""
    if isinstance(chat_id, str) and chat_id.startswith("@"):
        name = chat_id[1:]
        if not name:
            raise BadRequest("chat not found")
        # A stable channel id per username (channels' ids start with -100).
        number = -1000000000000 - sum(ord(c) * 31**i for i, c in enumerate(name)) % 10**9
        return {"id": number, "type": "channel", "title": name, "username": name}
    try:
        number = int(chat_id)
    except (TypeError, ValueError):
        raise BadRequest("chat not found") from None
    return {"id": number, "type": "group" if number < 0 else "private", "title": "Mesa"}


def _check_markup(markup: Any) -> None:
    for row in (markup or {}).get("inline_keyboard", []) if isinstance(markup, dict) else []:
        for button in row:
            url = button.get("url")
            host = (urlsplit(url).hostname or "").lower() if url else ""
            if url and (not host or host in LOOPBACK_HOSTS or host.startswith("127.")):
                raise BadRequest(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _check_text(text: Any) -> str:
    text = str(text or "")
    if not text.strip():
        raise BadRequest("message text is empty")
    if len(text) > MAX_TEXT:
        raise BadRequest("message is too long")
    return text


@dataclass
class FakeTelegram:
    tokens: set[str] = field(default_factory=lambda: {"123:GOOD"})
    max_wait: float = 0.2
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    # method → list of (status, body) answered (and consumed) before the normal answer.
    failures: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._cq_ids = itertools.count(1)
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # (chat id, message id) → (text, reply_markup) of each message the bot sent, as edits leave them.
        self.messages: dict[tuple[int, int], tuple[str, Any]] = {}

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> FakeTelegram:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                params: dict[str, Any] = {k: _decode(v) for k, v in parse_qsl(parts.query)}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                if raw and ctype == "application/json":
                    params.update(json.loads(raw))
                elif raw:
                    params.update({k: _decode(v) for k, v in parse_qsl(raw.decode())})
                segments = parts.path.strip("/").split("/")
                if len(segments) != 2 or not segments[0].startswith("bot"):
                    self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                token, method = segments[0][3:], segments[1]
                status, body = fake.handle(token, method, params)
                self._send(status, body)

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- what tests use -------------------------------------------------------------
    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            update = {"update_id": next(self._update_ids), **update}
            self.updates.append(update)
            self._cond.notify_all()
        return update

    def press(self, *, user_id: int, data: str, message: dict[str, Any], first_name: str = "Ann") -> dict[str, Any]:
        """A user presses an inline button under ``message`` (a message dict as returned by sendMessage)."""
        return self.push_update(
            {
                "callback_query": {
                    "id": f"cq{next(self._cq_ids)}",
                    "from": {"id": user_id, "is_bot": False, "first_name": first_name},
                    "chat_instance": "ci-1",
                    "data": data,
                    "message": message,
                }
            }
        )

    def message(
        self,
        *,
        user_id: int,
        chat_id: int,
        text: str,
        reply_to: dict[str, Any] | None = None,
        first_name: str = "Ann",
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "group" if chat_id < 0 else "private", "title": "Mesa"},
            "from": {"id": user_id, "is_bot": False, "first_name": first_name},
            "text": text,
        }
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        return self.push_update({"message": msg})

    def fail_next(self, method: str, status: int, body: dict[str, Any]) -> None:
        self.failures.setdefault(method, []).append((status, body))

    def forget_message(self, chat_id: int, message_id: int) -> None:
        """Someone deleted the message in the chat: editing it now fails as it does on Telegram."""
        self.messages.pop((chat_id, message_id), None)

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent_messages(self) -> list[dict[str, Any]]:
        """The message objects answered to sendMessage calls, in order."""
        return [c.params["_result"] for c in self.calls_of("sendMessage") if "_result" in c.params]

    # -- the server side -----------------------------------------------------------------
    def handle(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        call = Call(token, method, params)
        self.calls.append(call)
        if token not in self.tokens:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        queued = self.failures.get(method)
        if queued:
            return queued.pop(0)
        if method not in KNOWN_METHODS:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            result = self._result(method, params)
        except BadRequest as exc:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}
        params["_result"] = result
        return 200, {"ok": True, "result": result}

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in {"deleteWebhook", "answerCallbackQuery", "setMyCommands"}:
            return True
        if method == "getUpdates":
            return self._get_updates(params)
        if method == "sendMessage":
            chat = _chat(params.get("chat_id"))
            text = _check_text(params.get("text"))
            markup = params.get("reply_markup") or None
            _check_markup(markup)
            msg: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": chat,
                "from": BOT_USER,
                "text": text,
            }
            if markup:
                msg["reply_markup"] = markup
            self.messages[(chat["id"], msg["message_id"])] = (text, markup)
            return msg
        if method == "editMessageText":
            chat = _chat(params.get("chat_id"))
            message_id = int(params.get("message_id") or 0)
            text = _check_text(params.get("text"))
            markup = params.get("reply_markup") or None
            _check_markup(markup)
            key = (chat["id"], message_id)
            if key not in self.messages:
                raise BadRequest("message to edit not found")
            if self.messages[key] == (text, markup):
                raise BadRequest(
                    "message is not modified: specified new message content and reply markup are exactly "
                    "the same as a current content and reply markup of the message"
                )
            self.messages[key] = (text, markup)
            msg = {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": BOT_USER, "text": text}
            if markup:
                msg["reply_markup"] = markup
            return msg
        if method == "deleteMessage":
            key = (_chat(params.get("chat_id"))["id"], int(params.get("message_id") or 0))
            if self.messages.pop(key, None) is None:
                raise BadRequest("message to delete not found")
            return True
        raise AssertionError(f"{method} is in KNOWN_METHODS but has no answer")

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, self.max_wait)
        with self._cond:
            while True:
                if offset:
                    # Telegram forgets every update below the offset once it is asked for it.
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                if self.updates:
                    return list(self.updates)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)

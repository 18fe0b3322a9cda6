"""``ws/runs/<id>/terminal/``: a run's terminal over a WebSocket (Channels, served by daphne).

Who: the same rules as the pages (a session: trusted local mode's login link, or a logged-in member of the
run's org; the session's cookie only counts from a same-origin page) or an API key (``Authorization:
Bearer``, for scripts and agents). :func:`runners.bindings.terminal_access` then says observe or drive.

Server → client: binary frames are the terminal's raw bytes (from the start: a replay, then live); text
frames are JSON ``{"type": "hello", "mode": "drive"|"observe", "status"}``, ``{"type": "end", "status"}``
(then the server closes) and ``{"type": "error", "code"}``. Client → server (drive only): ``{"type":
"input", "data": "..."}`` and ``{"type": "resize", "cols", "rows"}``. Refused before the handshake: close
code 4401 (no credentials), 4404 (no such run here, or no access).

The bytes come from the run's stream file and the keystrokes go into its input FIFO
(``runners.terminal_stream``), so this works whether the run executes in daphne's process (``make run``)
or in a separate scheduler process on the same machine. Rights are re-checked every second: a binding
that ends stops the typing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from agents.keys import key_lookup
from agents.models import KeyKind
from orgs.actors import Actor
from orgs.models import OrgRole
from orgs.selectors import org_role
from runners.bindings import terminal_access
from runners.models import BindingMode, Run
from runners.terminal_stream import StreamReader, send_input, send_resize, terminals_dir
from web.local_login import SESSION_LOCAL_KEY, local_session_required

TAIL_S = 0.05
CHECK_S = 1.0
FRAME_MAX = 64 * 1024


@dataclass
class Visitor:
    actor: Actor
    may_act: bool  # a human who may change things in the run's org


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key == name:
            return str(value.decode("latin1"))
    return ""


def _same_origin(scope: dict[str, Any]) -> bool:
    """A browser always sends Origin: a page of another site must not ride the visitor's cookie."""
    origin = _header(scope, b"origin")
    return bool(origin) and urlparse(origin).netloc == _header(scope, b"host")


def visitor_for(scope: dict[str, Any], run: Run) -> Visitor | None:
    """Who is connecting to ``run``'s terminal, or None (no credentials, or outside the run's org)."""
    auth = _header(scope, b"authorization")
    if auth:
        scheme, _, raw = auth.partition(" ")
        key = key_lookup(raw.strip()) if scheme.lower() == "bearer" else None
        if key is None or key.org_id != run.org_id:
            return None
        if key.kind == KeyKind.BOARD:
            return Visitor(Actor.human(label=f"board key {key.prefix}…"), may_act=True)
        assert key.agent is not None
        return Visitor(Actor.for_agent(key.agent), may_act=False)
    if not _same_origin(scope):
        return None
    session = scope.get("session")
    user = scope.get("user")
    if local_session_required() and not (session is not None and session.get(SESSION_LOCAL_KEY)):
        return None
    authenticated = bool(user is not None and user.is_authenticated)
    if settings.MESA_TRUSTED_LOCAL:
        if user is not None and authenticated:
            return Visitor(Actor.human(user=user, operator=bool(user.is_superuser)), may_act=True)
        return Visitor(Actor.human(label="local", operator=True), may_act=True)
    if not authenticated:
        return None
    found = org_role(user, run.org)
    if found is None:
        return None
    return Visitor(Actor.human(user=user), may_act=found in {OrgRole.OWNER, OrgRole.MEMBER})


class TerminalConsumer(AsyncWebsocketConsumer):
    run_id: int
    mode: str | None = None
    label: str = ""
    _tail: asyncio.Task[None] | None = None
    # The driver's last size, applied once the process is there (a page opens before its run starts).
    _size: tuple[int, int] | None = None
    _size_sent = False

    @database_sync_to_async
    def _authorize(self) -> tuple[str | None, str, str]:
        """(mode or None, who is typing, the run's status); None also when there is no such run."""
        run = Run.objects.select_related("org").filter(pk=self.run_id).first()
        if run is None:
            return None, "", ""
        visitor = visitor_for(self.scope, run)
        if visitor is None:
            return None, "", run.status
        mode = terminal_access(actor=visitor.actor, run=run, may_act=visitor.may_act)
        return mode, str(visitor.actor), run.status

    async def connect(self) -> None:
        self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        mode, self.label, status = await self._authorize()
        if mode is None:
            await self.close(code=4404)
            return
        self.mode = mode
        await self.accept()
        await self.send(text_data=json.dumps({"type": "hello", "mode": mode, "status": status}))
        self._tail = asyncio.ensure_future(self._follow())

    async def _screen(self, data: bytes) -> None:
        # A replay can be the whole stored stream: frames of a bounded size.
        for start in range(0, len(data), FRAME_MAX):
            await self.send(bytes_data=data[start : start + FRAME_MAX])

    async def _follow(self) -> None:
        reader = StreamReader(terminals_dir(), self.run_id)
        loop = asyncio.get_running_loop()
        checked = 0.0
        try:
            while True:
                data = await asyncio.to_thread(reader.read)
                if data:
                    await self._screen(data)
                    if self._size is not None and not self._size_sent and self.mode == BindingMode.DRIVE:
                        self._size_sent = send_resize(terminals_dir(), self.run_id, *self._size)
                if loop.time() - checked >= CHECK_S:
                    checked = loop.time()
                    mode, _, status = await self._authorize()
                    self.mode = mode
                    if mode is None or status not in ("queued", "running"):
                        data = await asyncio.to_thread(reader.read)
                        if data:
                            await self._screen(data)
                        await self.send(text_data=json.dumps({"type": "end", "status": status}))
                        await self.close()
                        return
                await asyncio.sleep(TAIL_S)
        finally:
            reader.close()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data or "")
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind not in ("input", "resize"):
            return
        if self.mode != BindingMode.DRIVE:
            await self.send(text_data=json.dumps({"type": "error", "code": "read_only"}))
            return
        directory = terminals_dir()
        if kind == "input" and isinstance(message.get("data"), str) and message["data"]:
            delivered = send_input(directory, self.run_id, message["data"][:10_000], by=self.label)
        elif kind == "resize" and isinstance(message.get("cols"), int) and isinstance(message.get("rows"), int):
            self._size = (message["cols"], message["rows"])
            self._size_sent = send_resize(directory, self.run_id, *self._size)
            return  # not running yet: sent when its first output arrives
        else:
            return
        if not delivered:
            await self.send(text_data=json.dumps({"type": "error", "code": "not_running"}))

    async def disconnect(self, code: int) -> None:
        if self._tail is not None:
            self._tail.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._tail

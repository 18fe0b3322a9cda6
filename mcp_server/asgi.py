"""``/mcp``: the MCP server over streamable HTTP, beside Django in the same ASGI application.

Stateless JSON mode: each POST is one MCP exchange, authenticated by its own
``Authorization: Bearer`` header (the API view checks the key on every tool call). A request
without a bearer is refused here with the API's 401 shape before the SDK sees it. Daphne sends
no ASGI lifespan events, so the SDK's session manager is started by the first request and lives
as long as the event loop.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from django.conf import settings

ASGIApp = Any


def _security() -> Any:
    from mcp.server.transport_security import TransportSecuritySettings  # with the SDK, on first use

    hosts = [h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[*hosts, *(f"{h}:*" for h in hosts)],
        allowed_origins=[f"{scheme}://{h}{port}" for h in hosts for scheme in ("http", "https") for port in ("", ":*")],
    )


class McpApp:
    def __init__(self) -> None:
        self._app: ASGIApp | None = None
        self._ready: asyncio.Event | None = None

    async def _start(self) -> ASGIApp:
        if self._ready is None:
            self._ready = asyncio.Event()
            # The SDK (Starlette, pydantic) loads with the first MCP request, not with every server start.
            from mcp_server.server import build_server

            server = build_server()
            app = server.streamable_http_app(
                streamable_http_path="/mcp", stateless_http=True, json_response=True, transport_security=_security()
            )

            async def keep_running() -> None:
                async with server.session_manager.run():
                    self._app = app
                    assert self._ready is not None
                    self._ready.set()
                    await asyncio.Event().wait()

            self._task = asyncio.ensure_future(keep_running())
        await self._ready.wait()
        assert self._app is not None
        return self._app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers") or [])
        if not headers.get(b"authorization", b"").lower().startswith(b"bearer "):
            body = json.dumps({"error": "Send an API key: Authorization: Bearer <key>.", "code": "unauthorized"})
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                }
            )
            await send({"type": "http.response.body", "body": body.encode()})
            return
        app = await self._start()
        await app(scope, receive, send)

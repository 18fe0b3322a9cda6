"""ASGI entry point served by daphne (HTTP, SSE, MCP over streamable HTTP at ``/mcp``, and WebSockets)."""

from __future__ import annotations

import contextlib
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesa.settings")

from mcp_server.asgi import McpApp
from mesa import bodylimit
from mesa.handler import pooled_asgi_application
from mesa.static import StaticFiles
from orgs.gc_tuning import gc_tune

# Bodies are limited where daphne reads them (see mesa/bodylimit.py), when daphne is the server.
with contextlib.suppress(ImportError):  # another ASGI server: its own limits apply
    bodylimit.install()

# Plain daphne serves no static files; this keeps `make run` a single process
# without a separate web server.
django_application = StaticFiles(pooled_asgi_application())
mcp_application = McpApp()

# The consumer reads models: imported once get_asgi_application() has set Django up.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from web.terminal import TerminalConsumer  # noqa: E402

# A run's live terminal (web/terminal.py): the session cookie as for the pages, or an API key.
websocket_application = AuthMiddlewareStack(
    URLRouter([path("ws/runs/<int:run_id>/terminal/", TerminalConsumer.as_asgi())])
)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await websocket_application(scope, receive, send)
        return
    if scope["type"] == "http" and scope["path"] in ("/mcp", "/mcp/"):
        await mcp_application(scope, receive, send)
        return
    await django_application(scope, receive, send)


# Everything loaded so far lives as long as the server: out of the collector's sight (orgs/gc_tuning.py).
gc_tune()

"""ASGI entry point served by daphne (HTTP, SSE, and MCP over streamable HTTP at ``/mcp``)."""

from __future__ import annotations

import contextlib
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mesa.settings")

from mcp_server.asgi import McpApp
from mesa import bodylimit
from mesa.handler import pooled_asgi_application
from mesa.static import StaticFiles

# Bodies are limited where daphne reads them (see mesa/bodylimit.py), when daphne is the server.
with contextlib.suppress(ImportError):  # another ASGI server: its own limits apply
    bodylimit.install()

# Plain daphne serves no static files; this keeps `make run` a single process
# without a separate web server.
django_application = StaticFiles(pooled_asgi_application())
mcp_application = McpApp()


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"] in ("/mcp", "/mcp/"):
        await mcp_application(scope, receive, send)
        return
    await django_application(scope, receive, send)

"""``manage.py mcp``: serve the MCP tools over stdio, with the key in ``MESA_API_KEY``."""

from __future__ import annotations

import os
from typing import Any

import anyio
from django.core.management.base import BaseCommand, CommandError
from mcp.server.stdio import stdio_server

from mcp_server.server import build_server


class Command(BaseCommand):
    help = "Serve Mesa's MCP tools over stdio (the key comes from MESA_API_KEY)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not os.environ.get("MESA_API_KEY"):
            raise CommandError("Set MESA_API_KEY to an agent, run or board key.")
        server = build_server()

        async def serve() -> None:
            async with stdio_server() as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())

        anyio.run(serve)

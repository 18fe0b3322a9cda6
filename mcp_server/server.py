"""The MCP server (the official SDK's low-level ``Server``): tools listed from ``TOOLS``, called through the API.

One server object serves both transports. Over stdio (``manage.py mcp``) the key comes from the
process environment (``MESA_API_KEY``); over streamable HTTP (``/mcp``) from each request's
``Authorization: Bearer`` header. Either way the API view decides what the key may do.
"""

from __future__ import annotations

import json
import os
from typing import Any

import mcp_types as types
from asgiref.sync import sync_to_async
from mcp.server import Server
from mcp.server.context import ServerRequestContext

from mcp_server.calls import ToolInputError, api_call
from mcp_server.resources import TEMPLATES, resource_read, resources_list
from mcp_server.tools import TOOLS, TOOLS_BY_NAME, input_schema

INSTRUCTIONS = (
    "Mesa's agent API as tools: read your inbox, check an issue out before working on it, post evidence, "
    "move it to in_review, create sub-issues, ask for approvals, search and write the wiki, read runs, "
    "talk in channels. Issues and wiki pages are also resources: mesa://issues/<key>, mesa://wiki/<slug>."
)


def _authorization(ctx: ServerRequestContext[Any]) -> str:
    headers = getattr(ctx.request, "headers", None)
    if headers is not None:
        return str(headers.get("authorization", ""))
    key = os.environ.get("MESA_API_KEY", "")
    return f"Bearer {key}" if key else ""


async def list_tools(
    ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    schemas = {tool.name: await sync_to_async(input_schema)(tool.name) for tool in TOOLS}
    return types.ListToolsResult(
        tools=[
            types.Tool(
                name=tool.name,
                description=tool.description,
                input_schema=schemas[tool.name],
                annotations=types.ToolAnnotations(read_only_hint=tool.read_only, destructive_hint=False),
            )
            for tool in TOOLS
        ]
    )


def _result(status: int, data: Any) -> types.CallToolResult:
    text = json.dumps(data, indent=1, default=str)
    structured = data if isinstance(data, dict) else {"result": data}
    return types.CallToolResult(
        content=[types.TextContent(text=text)], structured_content=structured, is_error=status >= 400
    )


async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
    tool = TOOLS_BY_NAME.get(params.name)
    if tool is None:
        return _result(404, {"error": f"No tool named {params.name!r}.", "code": "unknown_tool"})
    try:
        status, data = await sync_to_async(api_call)(
            tool, dict(params.arguments or {}), authorization=_authorization(ctx)
        )
    except ToolInputError as exc:
        return _result(400, {"error": str(exc), "code": "invalid"})
    return _result(status, data)


async def list_resources(
    ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
) -> types.ListResourcesResult:
    return types.ListResourcesResult(resources=await sync_to_async(resources_list)(_authorization(ctx)))


async def list_resource_templates(
    ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
) -> types.ListResourceTemplatesResult:
    return types.ListResourceTemplatesResult(resource_templates=TEMPLATES)


async def read_resource(
    ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
) -> types.ReadResourceResult:
    contents = await sync_to_async(resource_read)(str(params.uri), _authorization(ctx))
    return types.ReadResourceResult(contents=[contents])


def build_server() -> Server[Any]:
    return Server(
        "mesa",
        version="1",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_resource_templates,
        on_read_resource=read_resource,
    )

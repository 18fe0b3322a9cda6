"""MCP resources: the org's issues and wiki pages, listed and read through the API views.

``mesa://issues/<key>`` and ``mesa://wiki/<slug>`` (also listed as templates). Like the tools,
each list and read is answered by the REST API view in process with the caller's key
(``mcp_server.calls``), so a resource shows exactly what that key may read through the API:
nothing of another org, a refusal as an MCP error carrying the API's message.
"""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types
from mcp.shared.exceptions import MCPError

from mcp_server.calls import api_call
from mcp_server.tools import Tool

SCHEME = "mesa://"
LIST_LIMIT = 100
RESOURCE_NOT_FOUND = -32002  # the MCP specification's code for an unknown resource

_ISSUES = Tool("issues", "", "api-issues", query=("limit",))
_ISSUE = Tool("issue", "", "api-issue", path=("key",))
_WIKI = Tool("wiki", "", "api-wiki", query=("limit",))
_PAGE = Tool("page", "", "api-wiki-page", path=("slug",))

TEMPLATES = [
    types.ResourceTemplate(
        name="issue",
        uri_template=SCHEME + "issues/{key}",
        description="An issue with its description, acceptance criteria, comments, children and runs.",
        mime_type="application/json",
    ),
    types.ResourceTemplate(
        name="wiki_page",
        uri_template=SCHEME + "wiki/{slug}",
        description="A wiki page with its content (markdown).",
        mime_type="application/json",
    ),
]


def _refused(status: int, data: Any) -> MCPError:
    message = data.get("error") if isinstance(data, dict) else None
    code = RESOURCE_NOT_FOUND if status == 404 else types.INVALID_PARAMS
    return MCPError(code, str(message or f"The API answered {status}."), data)


def resources_list(authorization: str) -> list[types.Resource]:
    """The latest issues and the wiki pages ``authorization`` may read (up to LIST_LIMIT of each)."""
    out: list[types.Resource] = []
    status, data = api_call(_ISSUES, {"limit": LIST_LIMIT}, authorization=authorization)
    if status >= 400:
        raise _refused(status, data)
    for issue in data.get("results", []):
        out.append(
            types.Resource(
                name=str(issue["key"]),
                title=f"{issue['key']}: {issue.get('title', '')}",
                uri=f"{SCHEME}issues/{issue['key']}",
                mime_type="application/json",
            )
        )
    status, data = api_call(_WIKI, {"limit": LIST_LIMIT}, authorization=authorization)
    if status >= 400:
        raise _refused(status, data)
    for page in data.get("results", []):
        out.append(
            types.Resource(
                name=str(page["slug"]),
                title=str(page.get("title", page["slug"])),
                uri=f"{SCHEME}wiki/{page['slug']}",
                mime_type="application/json",
            )
        )
    return out


def resource_read(uri: str, authorization: str) -> types.TextResourceContents:
    """The issue or wiki page at ``uri``, as the API gives it to ``authorization``."""
    rest = uri.removeprefix(SCHEME) if uri.startswith(SCHEME) else ""
    kind, _, name = rest.partition("/")
    if kind == "issues" and name:
        status, data = api_call(_ISSUE, {"key": name}, authorization=authorization)
    elif kind == "wiki" and name:
        status, data = api_call(_PAGE, {"slug": name}, authorization=authorization)
    else:
        raise MCPError(RESOURCE_NOT_FOUND, f"No resource {uri!r}: use mesa://issues/<key> or mesa://wiki/<slug>.")
    if status >= 400:
        raise _refused(status, data)
    return types.TextResourceContents(uri=uri, mime_type="application/json", text=json.dumps(data, indent=1))

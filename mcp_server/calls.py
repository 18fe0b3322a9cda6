"""A tool call answered by the REST API view itself, in process.

The request is built as the HTTP server would build it (method, path, query, JSON body and the
caller's ``Authorization`` header) and handed to the view the URL resolves to, so authentication,
permissions, validation, the services and the error shape are exactly the API's.
"""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections
from django.urls import resolve

from mcp_server.tools import Tool


class ToolInputError(ValueError):
    """The arguments cannot make a request (a path argument is missing)."""


def _host() -> str:
    hosts = [h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")]
    return hosts[0] if hosts else "localhost"


def api_call(tool: Tool, arguments: dict[str, Any], *, authorization: str) -> tuple[int, Any]:
    """Answer ``tool(arguments)`` as the API answers its route: ``(status code, JSON body)``."""
    missing = [name for name in tool.path if arguments.get(name) in (None, "")]
    if missing:
        raise ToolInputError(f"Missing argument: {', '.join(missing)}.")
    path = tool.url(arguments)
    query = urlencode({k: arguments[k] for k in tool.query if arguments.get(k) not in (None, "")})
    fields = {k: v for k, v in arguments.items() if k not in tool.path and k not in tool.query}
    body = json.dumps(fields).encode() if tool.method != "GET" else b""
    host = _host()
    request = WSGIRequest(
        {
            "REQUEST_METHOD": tool.method,
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": query,
            "SERVER_NAME": host,
            "SERVER_PORT": "80",
            "HTTP_HOST": host,
            "HTTP_ACCEPT": "application/json",
            "HTTP_AUTHORIZATION": authorization,
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": BytesIO(body),
            "wsgi.url_scheme": "http",
        }
    )
    close_old_connections()
    try:
        match = resolve(path)
        response = match.func(request, *match.args, **match.kwargs)
        render = getattr(response, "render", None)
        if callable(render):
            render()
        content = response.content
        return response.status_code, (json.loads(content) if content else None)
    finally:
        close_old_connections()

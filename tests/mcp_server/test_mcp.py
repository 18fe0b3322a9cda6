"""The MCP server, driven by the official SDK's own client over both transports against a live Mesa."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from mcp_server.tools import TOOLS, input_schema, openapi
from tests.browser.server import REPO, Server, manage, mesa_env, prepare_db, run_python, start_daphne

MINT_RUN_KEY = """
from agents.keys import run_key_create
from agents.models import Agent
from runners.models import Run
agent = Agent.objects.get(slug="founding-engineer")
run = Run.objects.create(org=agent.org, agent=agent, status="running")
print(run.pk, run_key_create(org=agent.org, agent=agent, run_id=run.pk, timeout_s=600))
"""
REVOKE_RUN_KEY = "from agents.keys import run_keys_revoke\nprint(run_keys_revoke(run_id={run_id}))"


@pytest.fixture(scope="module")
def mesa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("mesa-mcp")
    server = start_daphne(prepare_db(directory), directory / "daphne.log")
    yield server
    server.stop()


def run_async(fn: Any) -> Any:
    """``anyio.run(fn)`` in a thread of its own: the browser tests' sync Playwright keeps a loop in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, fn).result(timeout=120)


def board_key(server: Server) -> str:
    return manage(server.db, "board-key", "--name", "mcp test").strip().splitlines()[-1]


def over_http(server: Server, key: str, calls: Any) -> Any:
    async def go() -> Any:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
            transport = streamable_http_client(f"{server.url}/mcp", http_client=http)
            async with Client(transport) as client:
                return await calls(client)

    return run_async(go)


@pytest.mark.django_db
def test_it_takes_every_tool_schema_from_the_api_schema() -> None:
    doc = openapi()
    create = input_schema("issue_create")
    body = doc["components"]["schemas"]["IssueCreateInputRequest"]
    assert set(create["properties"]) == {k for k, v in body["properties"].items() if not v.get("deprecated")}
    assert create["required"] == body["required"] == ["title"]
    assert input_schema("comment_create")["required"] == ["key", "body"]
    assert "assignee_slug" not in create["properties"]  # an alias is accepted, never taught
    assert all(input_schema(tool.name)["type"] == "object" for tool in TOOLS)


def test_it_serves_the_agent_api_as_tools_over_streamable_http(mesa: Server) -> None:
    key = board_key(mesa)

    async def calls(client: Client) -> Any:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        created = await client.call_tool("issue_create", {"title": "Filed through MCP", "priority": 3})
        bad = await client.call_tool("issue_create", {"title": "x", "assignee_slug": "nobody-here"})
        missing = await client.call_tool("issue_read", {})
        return tools, created, bad, missing

    tools, created, bad, missing = over_http(mesa, key, calls)
    assert {"inbox", "issue_checkout", "comment_create", "wiki_search", "runs_list"} <= set(tools)
    assert tools["issue_create"].input_schema == input_schema("issue_create")
    assert not created.is_error
    issue_key = created.structured_content["key"]
    stored = run_python(mesa.db, f"from issues.models import Issue\nprint(Issue.objects.get(key={issue_key!r}).title)")
    assert stored.strip() == "Filed through MCP"
    # The API's own refusal, with its error shape: an unknown assignee is a 400, nothing created.
    assert bad.is_error and (bad.structured_content["code"], bad.structured_content["field"]) == ("invalid", "assignee")
    assert missing.is_error and missing.structured_content == {"error": "Missing argument: key.", "code": "invalid"}


def test_it_refuses_a_request_without_a_key_and_a_tool_call_with_a_revoked_one(mesa: Server) -> None:
    request = urllib.request.Request(f"{mesa.url}/mcp", data=b"{}", method="POST")
    request.add_header("Content-Type", "application/json")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401 and json.loads(refused.value.read())["code"] == "unauthorized"

    run_id, run_key = run_python(mesa.db, MINT_RUN_KEY).split()
    before = over_http(mesa, run_key, lambda client: client.call_tool("inbox", {}))
    assert not before.is_error
    assert run_python(mesa.db, REVOKE_RUN_KEY.format(run_id=run_id)).strip() == "1"  # as the run's end does
    after = over_http(mesa, run_key, lambda client: client.call_tool("inbox", {}))
    assert after.is_error and after.structured_content["code"] == "invalid_key"


def test_it_serves_the_same_tools_over_stdio_with_the_key_from_the_environment(mesa: Server, tmp_path: Path) -> None:
    key = board_key(mesa)
    params = StdioServerParameters(
        command=sys.executable,
        args=[str(REPO / "manage.py"), "mcp"],
        env=mesa_env(mesa.db, MESA_API_KEY=key),
        cwd=str(REPO),
    )

    async def go() -> Any:
        async with Client(params) as client:
            created = await client.call_tool("issue_create", {"title": "Filed over stdio"})
            read = await client.call_tool("issue_read", {"key": created.structured_content["key"]})
            return created, read

    created, read = run_async(go)
    assert not created.is_error and not read.is_error
    assert read.structured_content["title"] == "Filed over stdio"

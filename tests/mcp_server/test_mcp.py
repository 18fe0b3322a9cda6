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
from mcp.shared.exceptions import MCPError

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


OUTSIDER_KEY = """
from agents.keys import key_create
from agents.models import KeyKind
from orgs.actors import Actor
from orgs.services import org_create
from tests.factories import make_agent
org = org_create(actor=Actor.system("t"), name="Elsewhere", slug="elsewhere", issue_prefix="ELS")
agent = make_agent(org, slug="stranger")
print(key_create(actor=Actor.system("t"), org=org, kind=KeyKind.AGENT, agent=agent, name="t")[1])
"""


def test_it_serves_issues_and_wiki_pages_as_resources_scoped_like_the_api(mesa: Server) -> None:
    key = board_key(mesa)

    async def setup_and_read(client: Client) -> Any:
        issue = await client.call_tool("issue_create", {"title": "Readable as a resource"})
        await client.call_tool("wiki_write", {"title": "Runbook", "content": "Restart with care."})
        issue_key = issue.structured_content["key"]
        listed = await client.list_resources()
        templates = await client.list_resource_templates()
        read_issue = await client.read_resource(f"mesa://issues/{issue_key}")
        read_page = await client.read_resource("mesa://wiki/runbook")
        return issue_key, listed, templates, read_issue, read_page

    issue_key, listed, templates, read_issue, read_page = over_http(mesa, key, setup_and_read)
    uris = {str(r.uri) for r in listed.resources}
    assert {f"mesa://issues/{issue_key}", "mesa://wiki/runbook"} <= uris
    assert {t.uri_template for t in templates.resource_templates} == {"mesa://issues/{key}", "mesa://wiki/{slug}"}
    assert json.loads(read_issue.contents[0].text)["title"] == "Readable as a resource"
    assert json.loads(read_page.contents[0].text)["content"] == "Restart with care."

    # Another org's agent lists none of it and cannot read it.
    stranger = run_python(mesa.db, OUTSIDER_KEY).strip().splitlines()[-1]

    async def outsider(client: Client) -> Any:
        listed = await client.list_resources()
        refusals = []
        for uri in (f"mesa://issues/{issue_key}", "mesa://wiki/runbook", "mesa://nothing"):
            try:
                await client.read_resource(uri)
            except MCPError as exc:
                refusals.append(exc.code)
        return listed, refusals

    listed, refusals = over_http(mesa, stranger, outsider)
    assert not any(str(r.uri) in uris for r in listed.resources)
    assert refusals == [-32002, -32002, -32002]


def test_it_talks_in_channels_through_the_tools(mesa: Server) -> None:
    key = board_key(mesa)

    async def calls(client: Client) -> Any:
        made = await client.call_tool("channel_create", {"name": "release", "topic": "shipping"})
        posted = await client.call_tool("channel_post", {"name": "release", "body": "@founding-engineer v1 ships"})
        listed = await client.call_tool("channel_messages", {"name": "release", "limit": 5})
        return made, posted, listed

    made, posted, listed = over_http(mesa, key, calls)
    assert not made.is_error and made.structured_content["name"] == "release"
    assert not posted.is_error
    assert [m["body"] for m in listed.structured_content["results"]] == ["@founding-engineer v1 ships"]
    unread = run_python(mesa.db, "from chat.models import Recipient\nprint(Recipient.objects.get().agent.slug)").strip()
    assert unread == "founding-engineer"  # the mention addressed the agent


RUN_THAT_KEEPS_ITS_KEY = """
from agents.services import agent_create
from orgs.actors import Actor
from orgs.models import Org
from runners.execution import execute_run
from runners.models import Run
org = Org.objects.get(slug="mesa")  # the bootstrapped org (other tests add more)
agent = agent_create(
    actor=Actor.system("t"), org=org, slug="keeper", name="Keeper", archetype="backend", runner="command",
    model="sh -c 'printf %s \\"$MESA_API_KEY\\" > {path}'",
)
run = Run.objects.create(org=org, agent=agent, status="running", mode="heartbeat")
print(execute_run(run.pk))
"""


def test_it_refuses_the_key_of_a_run_that_ended(mesa: Server, tmp_path: Path) -> None:
    kept = tmp_path / "run-key"
    status = run_python(
        mesa.db, RUN_THAT_KEEPS_ITS_KEY.format(path=kept), MESA_WORKSPACES_DIR=str(tmp_path / "workspaces")
    )
    assert status.strip().splitlines()[-1] == "completed"
    run_key = kept.read_text()
    assert run_key.startswith("mesa_run_")
    after = over_http(mesa, run_key, lambda client: client.call_tool("inbox", {}))
    assert after.is_error and after.structured_content["code"] == "invalid_key"


A_RUN = """
from agents.models import Agent
from agents.services import agent_create
from orgs.actors import Actor
from orgs.models import Org
from runners.models import Run
org = Org.objects.get(slug="mesa")
agent = agent_create(
    actor=Actor.system("t"), org=org, slug="terminal-owner", name="Terminal owner", archetype="backend", runner="noop",
    reports_to=Agent.objects.get(org=org, slug="ceo"),
)
print(Run.objects.create(org=org, agent=agent, status="running", mode="task").pk)
"""


def test_it_sets_stages_and_attaches_to_a_terminal_through_the_tools(mesa: Server) -> None:
    key = board_key(mesa)
    run_id = int(run_python(mesa.db, A_RUN).strip().splitlines()[-1])

    async def calls(client: Client) -> Any:
        made = await client.call_tool("issue_create", {"title": "Staged through MCP"})
        issue_key = made.structured_content["key"]
        await client.call_tool("stages_set", {"key": issue_key, "stages": ["Design", "Build", "Ship"]})
        done = await client.call_tool("stage_complete", {"key": issue_key, "number": 1})
        out_of_order = await client.call_tool("stage_complete", {"key": issue_key, "number": 3})
        granted = await client.call_tool("binding_grant", {"run_id": run_id, "mode": "observe", "agent": "qa"})
        listed = await client.call_tool("run_bindings", {"run_id": run_id})
        ended = await client.call_tool("binding_end", {"binding_id": granted.structured_content["id"]})
        return done, out_of_order, granted, listed, ended

    done, again, granted, listed, ended = over_http(mesa, key, calls)
    assert not done.is_error and done.structured_content["progress"] == 33
    assert [s["done"] for s in done.structured_content["stages"]] == [True, False, False]
    assert again.is_error and again.structured_content["code"] == "stage_order"  # stage 2 first
    assert not granted.is_error and granted.structured_content["agent"] == "qa"
    assert [b["id"] for b in listed.structured_content["result"]] == [granted.structured_content["id"]]
    assert not ended.is_error and ended.structured_content["active"] is False

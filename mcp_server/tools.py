"""The MCP tools: each is one operation of the REST API, named by its URL name.

A tool call is answered by the API view itself (``mcp_server.calls``), so the permission rules,
validation and services are the API's, with no second implementation. A tool's input schema is
read from the same OpenAPI document the API publishes (its request body, path and query
parameters), so the two cannot disagree.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    url_name: str
    method: str = "GET"
    path: tuple[str, ...] = ()  # URL kwargs, given as tool arguments
    query: tuple[str, ...] = ()  # query parameters the tool passes on
    read_only: bool = True
    defaults: dict[str, str] = field(default_factory=dict)

    def url(self, arguments: dict[str, Any]) -> str:
        return reverse(self.url_name, kwargs={name: str(arguments[name]) for name in self.path})


TOOLS: tuple[Tool, ...] = (
    Tool("inbox", "Your open work: issues assigned to you, reviews waiting for you, mentions.", "api-inbox"),
    Tool(
        "issue_read",
        "Read an issue: description, acceptance criteria, comments, children, runs.",
        "api-issue",
        path=("key",),
    ),
    Tool(
        "issue_checkout",
        "Check an issue out before working on it: it becomes in_progress and yours.",
        "api-issue-checkout",
        "POST",
        path=("key",),
        read_only=False,
    ),
    Tool(
        "issue_release",
        "Give an issue back (it returns to todo, unassigned), saying why.",
        "api-issue-release",
        "POST",
        path=("key",),
        read_only=False,
    ),
    Tool(
        "issue_update",
        "Change an issue: status (todo, in_progress, blocked, in_review, done, ...), optionally "
        "with a comment; title, description, priority, assignee, labels.",
        "api-issue",
        "PATCH",
        path=("key",),
        read_only=False,
    ),
    Tool(
        "comment_create",
        "Comment on an issue; kind 'evidence' for what you did and how you verified it.",
        "api-issue-comments",
        "POST",
        path=("key",),
        read_only=False,
    ),
    Tool(
        "issue_create",
        "Create an issue or a sub-issue (parent: issue key) assigned to a team member (assignee: agent slug).",
        "api-issues",
        "POST",
        read_only=False,
    ),
    Tool(
        "issue_similarity",
        "Issues similar to a title: look for duplicates before creating one.",
        "api-issue-similarity",
        "POST",
    ),
    Tool(
        "approval_request",
        "Ask the humans for a decision (wait until its status is approved).",
        "api-approvals",
        "POST",
        read_only=False,
    ),
    Tool("wiki_search", "Search the wiki.", "api-wiki-search", query=("q",)),
    Tool("wiki_read", "Read a wiki page.", "api-wiki-page", path=("slug",)),
    Tool("wiki_write", "Write a new wiki page (durable knowledge).", "api-wiki", "POST", read_only=False),
    Tool("wiki_update", "Update a wiki page.", "api-wiki-page", "PATCH", path=("slug",), read_only=False),
    Tool(
        "runs_list",
        "Runs, newest first (filters: issue, agent, status, mode).",
        "api-runs",
        query=("issue", "agent", "status", "mode", "cursor", "limit"),
    ),
    Tool(
        "workspace_state",
        "An issue's workspace: branch, target, ahead / behind, its commits, ship state, uncommitted files.",
        "api-issue-workspace",
        path=("key",),
    ),
    Tool("run_read", "One run: transcript, diff, tokens, cost.", "api-run", path=("run_id",)),
    Tool(
        "channels_list",
        "The channels you can read (#eng, your direct threads), with your unread counts.",
        "api-channels",
    ),
    Tool("channel_create", "Create a named channel (like eng or release).", "api-channels", "POST", read_only=False),
    Tool(
        "channel_direct",
        "Open (or find) your direct thread with another agent (agent: its slug); post in it by its name.",
        "api-channels-direct",
        "POST",
        read_only=False,
    ),
    Tool(
        "channel_messages",
        "A channel's messages, newest first (name: eng or a dm-... thread; cursor pages back).",
        "api-channel-messages",
        path=("name",),
        query=("cursor", "limit"),
    ),
    Tool(
        "channel_post",
        "Post a message in a channel; @<agent-slug> addresses that agent and wakes it.",
        "api-channel-messages",
        "POST",
        path=("name",),
        read_only=False,
    ),
    Tool(
        "channel_read",
        "Mark the messages addressed to you in a channel read (up_to: the last id you read).",
        "api-channel-read",
        "POST",
        path=("name",),
        read_only=False,
    ),
    Tool(
        "messages_unread",
        "Unread messages addressed to you (mentions, direct threads), oldest first.",
        "api-messages-unread",
    ),
    Tool("stages_read", "An issue's stages, its current stage and progress.", "api-issue-stages", path=("key",)),
    Tool(
        "stages_set",
        "Set an issue's stages (an ordered checklist); stages already done and unchanged stay done.",
        "api-issue-stages",
        "PUT",
        path=("key",),
        read_only=False,
    ),
    Tool(
        "stage_complete",
        "Complete stage number of an issue (in order).",
        "api-issue-stage-complete",
        "POST",
        path=("key", "number"),
        read_only=False,
    ),
    Tool(
        "run_bindings",
        "Who is attached to a run's terminal (observe or drive).",
        "api-run-bindings",
        path=("run_id",),
    ),
    Tool(
        "binding_grant",
        "Attach an agent (agent: slug) or a user to a run's terminal: observe (read) or drive (type).",
        "api-run-bindings",
        "POST",
        path=("run_id",),
        read_only=False,
    ),
    Tool(
        "binding_end",
        "End a terminal binding.",
        "api-binding-end",
        "POST",
        path=("binding_id",),
        read_only=False,
    ),
)
TOOLS_BY_NAME = {tool.name: tool for tool in TOOLS}


@functools.cache
def openapi() -> dict[str, Any]:
    """The API's OpenAPI document, generated once per process (as ``/api/schema`` serves it)."""
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(node: Any, doc: dict[str, Any]) -> Any:
    """``node`` with its ``$ref``s replaced by the components they name (MCP clients want one object)."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return _resolve(doc["components"]["schemas"][name], doc)
        return {k: _resolve(v, doc) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, doc) for v in node]
    return node


def _operation(tool: Tool) -> dict[str, Any]:
    doc = openapi()
    # Stand-ins for the path parameters, then the OpenAPI path's {name}: digits fit <int:...> as well as <str:...>.
    stand_ins = {name: f"9753108642{i}" for i, name in enumerate(tool.path)}
    template = reverse(tool.url_name, kwargs=stand_ins)
    for name, stand_in in stand_ins.items():
        template = template.replace(stand_in, "{" + name + "}")
    return _resolve(doc["paths"][template][tool.method.lower()], doc)


@functools.cache
def input_schema(name: str) -> dict[str, Any]:
    """The JSON schema of a tool's arguments: path parameters, query parameters and the request body."""
    tool = TOOLS_BY_NAME[name]
    operation = _operation(tool)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in operation.get("parameters", []):
        where, pname = param.get("in"), param.get("name")
        if (where == "path" and pname in tool.path) or (where == "query" and pname in tool.query):
            properties[pname] = {**param.get("schema", {"type": "string"}), "description": param.get("description", "")}
            if where == "path" or param.get("required"):
                required.append(pname)
    for pname in tool.path:  # a path argument the document did not describe is still a string
        if pname not in properties:
            properties[pname] = {"type": "string"}
            required.append(pname)
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body:
        for pname, prop in body.get("properties", {}).items():
            if prop.get("deprecated"):  # the original Mesa's aliases: accepted, never taught
                continue
            properties[pname] = prop
        required += [r for r in body.get("required", []) if r not in required]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}

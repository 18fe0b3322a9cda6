"""The API cheat sheet every prompt ends with, generated from the API itself.

Each :class:`Command` names a route by its URL name (the path comes from ``reverse``) and,
when it sends a body, the input serializer of that route; the example body is validated by
that serializer when the sheet is built, so a renamed route or field breaks the build, not the
agents. ``tests/api/test_cheatsheet.py`` checks each serializer against the OpenAPI schema and
``tests/runners/test_prompt_cheatsheet.py`` runs every command of every archetype's prompt
against a live server.

Conventions in the sheet: ``$MESA_*`` are environment variables of the run; ``<...>`` are
placeholders the agent replaces (``<issue-key>``, ``<agent-slug>``, free text...).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from rest_framework import serializers

from api.serializers.agents import AgentCreateInput
from api.serializers.approvals import ApprovalCreateInput
from api.serializers.issues import (
    CommentCreateInput,
    IssueCreateInput,
    IssueUpdateInput,
    ReleaseInput,
    SimilarityInput,
)
from api.serializers.learning import SkillProposeInput
from api.serializers.runs import RunCancelInput
from api.serializers.wiki import WikiPageCreateInput, WikiPageUpdateInput

API_PREFIX = "/api/v1/"
PLACEHOLDER_RE = re.compile(r"<[a-z][a-z0-9 ,'-]*>")


@dataclass(frozen=True)
class Command:
    what: str  # the comment above the command
    url_name: str
    method: str = "GET"
    path: dict[str, str] = field(default_factory=dict)  # URL kwargs: $MESA_* or <placeholder>
    query: str = ""
    body: dict[str, Any] | None = None
    request: type[serializers.Serializer[Any]] | None = None  # the route's input serializer
    ceo_only: bool = False

    def url(self) -> str:
        sentinels = {name: f"MESAPATHARG{i}" for i, name in enumerate(self.path)}
        url = reverse(self.url_name, kwargs=sentinels)
        if not url.startswith(API_PREFIX):
            raise ValueError(f"{self.url_name} is not an API route ({url}).")
        url = url.removeprefix(API_PREFIX)
        for name, sentinel in sentinels.items():
            url = url.replace(sentinel, self.path[name])
        return f"$MESA_API_URL/{url}" + (f"?{self.query}" if self.query else "")

    def line(self) -> str:
        parts = ["curl -s"]
        if self.method != "GET":
            parts.append(f"-X {self.method}")
        parts.append('-H "$H"')
        if self.body is not None:
            parts.append(f"-H \"$J\" -d '{json.dumps(self.body)}'")
        parts.append(f'"{self.url()}"')
        return " ".join(parts)

    def check(self) -> None:
        """The example body is valid input for the route's serializer (placeholders as text)."""
        if (self.body is None) != (self.request is None):
            raise ValueError(f"{self.what}: a body needs its input serializer and vice versa.")
        if self.body is None or self.request is None:
            return
        declared = set(self.request().fields)
        if set(self.body) - declared:  # an alias is accepted from old clients, never taught
            raise ValueError(f"The cheat sheet's {self.what!r} sends fields {self.request.__name__} does not declare.")
        filled = {k: PLACEHOLDER_RE.sub("x", v) if isinstance(v, str) else v for k, v in self.body.items()}
        s = self.request(data=filled)
        if not s.is_valid():
            raise ValueError(f"The cheat sheet's {self.what!r} does not match {self.request.__name__}: {s.errors}")


COMMANDS: tuple[Command, ...] = (
    Command("Your open work", "api-inbox"),
    Command("Read your issue (description, comments, children, runs)", "api-issue", path={"key": "$MESA_ISSUE_KEY"}),
    Command(
        "Check it out first: it becomes in_progress and yours",
        "api-issue-checkout",
        "POST",
        path={"key": "$MESA_ISSUE_KEY"},
    ),
    Command(
        "Post evidence (what changed, how you verified it); kind is comment or evidence",
        "api-issue-comments",
        "POST",
        path={"key": "$MESA_ISSUE_KEY"},
        body={"body": "<what you did and how you verified it>", "kind": "evidence"},
        request=CommentCreateInput,
    ),
    Command(
        "Change the status (todo, in_progress, blocked, in_review, ...), optionally with a comment",
        "api-issue",
        "PATCH",
        path={"key": "$MESA_ISSUE_KEY"},
        body={"status": "in_review", "comment": "<a note for the reviewer>"},
        request=IssueUpdateInput,
    ),
    Command(
        "Give an issue back (it returns to todo, unassigned)",
        "api-issue-release",
        "POST",
        path={"key": "$MESA_ISSUE_KEY"},
        body={"comment": "<why you give it back>"},
        request=ReleaseInput,
    ),
    Command(
        "Look for duplicates before creating an issue",
        "api-issue-similarity",
        "POST",
        body={"title": "<title of the new issue>"},
        request=SimilarityInput,
    ),
    Command(
        "Create a sub-issue assigned to a team member (assignee: agent slug; parent: issue key)",
        "api-issues",
        "POST",
        body={
            "title": "<title>",
            "description": "<what and why>",
            "acceptance_criteria": "<how to tell it is done>",
            "assignee": "<agent-slug>",
            "parent": "<parent-issue-key>",
        },
        request=IssueCreateInput,
    ),
    Command(
        "Ask the humans for a decision (wait until its status is approved)",
        "api-approvals",
        "POST",
        body={"title": "<what you ask permission for>", "reason": "<why>", "issue": "<issue-key>"},
        request=ApprovalCreateInput,
    ),
    Command("Search the wiki", "api-wiki-search", query="q=<words>"),
    Command(
        "Write a wiki page (durable knowledge)",
        "api-wiki",
        "POST",
        body={"title": "<page title>", "content": "<markdown>"},
        request=WikiPageCreateInput,
    ),
    Command(
        "Update a wiki page",
        "api-wiki-page",
        "PATCH",
        path={"slug": "<wiki-slug>"},
        body={"content": "<markdown>"},
        request=WikiPageUpdateInput,
    ),
    Command(
        "Propose a skill that worked, for your archetype (the humans approve it; then every such agent gets it)",
        "api-skills",
        "POST",
        body={"title": "<short name>", "body": "<the reusable instruction or script>", "archetype": "<archetype>"},
        request=SkillProposeInput,
    ),
    Command(
        "Runs on your issue, newest first (filters: issue, agent, status, mode)",
        "api-runs",
        query="issue=$MESA_ISSUE_KEY",
    ),
    Command("One run: transcript, diff, tokens, cost", "api-run", path={"run_id": "<run-id>"}),
    Command("The team", "api-agents", ceo_only=True),
    Command(
        "Hire: propose a new agent (the humans approve it)",
        "api-agents",
        "POST",
        body={
            "slug": "<new-agent-slug>",
            "name": "<display name>",
            "archetype": "<archetype>",
            "reports_to": "<manager-slug>",
        },
        request=AgentCreateInput,
        ceo_only=True,
    ),
    Command(
        "Stop a run of someone who reports to you",
        "api-run-cancel",
        "POST",
        path={"run_id": "<run-id>"},
        body={"reason": "<why>"},
        request=RunCancelInput,
        ceo_only=True,
    ),
)

HEADER = """Mesa API (every command below works as written): $MESA_* are set in your environment (never print
the key; $MESA_ISSUE_KEY is this run's issue, empty in a heartbeat: use the keys in your inbox); replace each
<...> with a real value. Answers are JSON; errors are {"error", "code", ...} and say what to do.
  H="Authorization: Bearer $MESA_API_KEY"
  J="Content-Type: application/json\""""


@functools.cache
def cheat_sheet(*, ceo: bool) -> str:
    """The cheat sheet (CEO or not); built once per process, every command checked against its serializer."""
    lines = [HEADER]
    for command in COMMANDS:
        if command.ceo_only and not ceo:
            continue
        command.check()
        lines += [f"  # {command.what}", f"  {command.line()}"]
    return "\n".join(lines)

"""The prompt's API cheat sheet is generated from the API: routes by URL name, bodies checked by their serializers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve

from api.cheatsheet import COMMANDS, Command, cheat_sheet
from api.serializers.issues import IssueCreateInput
from runners.cheatsheet import cheat_sheet as hooked
from runners.prompt import api_cheat_sheet


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        return Client().get("/api/schema/?format=json").json()


def test_it_reaches_the_prompt_through_the_hook_the_api_registers() -> None:
    assert hooked(ceo=False) == cheat_sheet(ceo=False) == api_cheat_sheet(ceo=False)
    assert hooked(ceo=True) == api_cheat_sheet(ceo=True) != api_cheat_sheet(ceo=False)


def test_it_names_for_every_command_the_serializer_its_route_declares(schema: dict[str, Any]) -> None:
    for command in COMMANDS:
        path = resolve(command.url().replace("$MESA_API_URL", "/api/v1").split("?")[0]).route
        operation = schema["paths"]["/" + _templated(path)][command.method.lower()]
        body = operation.get("requestBody")
        if command.request is None:
            continue
        assert body is not None, command.what
        ref = body["content"]["application/json"]["schema"]["$ref"]
        name = ref.rsplit("/", 1)[1].removesuffix("Request")
        assert name in (command.request.__name__, f"Patched{command.request.__name__}"), command.what


def _templated(route: str) -> str:
    """Django's route (``issues/<str:key>``) as the OpenAPI path (``issues/{key}``)."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def test_it_covers_what_an_agent_needs_and_the_ceo_more() -> None:
    agent, ceo = api_cheat_sheet(ceo=False), api_cheat_sheet(ceo=True)
    for needle in (
        "/inbox",
        '/issues/$MESA_ISSUE_KEY"',
        "/checkout",
        "/release",
        '"status": "in_review"',
        '"kind": "evidence"',
        '"assignee": "<agent-slug>", "parent": "<parent-issue-key>"',
        "/issues/similarity",
        "/approvals",
        "/wiki/search?q=",
        '-X POST -H "$H" -H "$J" -d \'{"title": "<page title>"',
        '-X PATCH -H "$H" -H "$J" -d \'{"content": "<markdown>"}\' "$MESA_API_URL/wiki/<wiki-slug>"',
        "/runs?issue=$MESA_ISSUE_KEY",
        '/runs/<run-id>"',
    ):
        assert needle in agent, needle
    assert '"$MESA_API_URL/agents"' not in agent
    assert 'curl -s -H "$H" "$MESA_API_URL/agents"' in ceo
    assert '-X POST -H "$H" -H "$J" -d \'{"slug": "<new-agent-slug>"' in ceo
    for original in ("assignee_slug", "parent_issue_key", "issue_key", "agentId"):
        assert original not in ceo


def test_it_refuses_to_build_a_command_its_serializer_would_refuse() -> None:
    drifted = Command(
        "old names", "api-issues", "POST", body={"title": "<t>", "assignee_slug": "x"}, request=IssueCreateInput
    )
    with pytest.raises(ValueError, match="does not declare"):
        drifted.check()  # an alias of the original Mesa is accepted, but never taught
    wrong_type = Command(
        "bad", "api-issues", "POST", body={"title": "<t>", "priority": "high"}, request=IssueCreateInput
    )
    with pytest.raises(ValueError, match="priority"):
        wrong_type.check()
    with pytest.raises(ValueError, match="needs its input serializer"):
        Command("no serializer", "api-issues", "POST", body={"title": "t"}).check()
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        Command("gone", "api-no-such-route").url()

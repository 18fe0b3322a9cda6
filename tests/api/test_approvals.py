"""Approvals over the API: agents ask, the addressed reviewer / the CEO / the board decide exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.models import Agent
from approvals.models import Approval
from approvals.services import approval_create
from orgs.actors import Actor
from orgs.models import Event, Org
from tests.factories import make_issue


def _ask(agent: Agent, reviewer: Agent | None = None, title: str = "May I drop the table?") -> Approval:
    return approval_create(actor=Actor.for_agent(agent), org=agent.org, title=title, reviewer=reviewer)


def test_it_lets_an_agent_ask_for_a_decision(
    call: Callable[..., Any], api_org: Org, engineer: Agent, agent_key: Callable[[Agent], str]
) -> None:
    issue = make_issue(api_org, assignee=engineer)
    resp = call(
        "POST",
        "approvals",
        agent_key(engineer),
        {
            "title": "Drop the legacy table",
            "reason": "It is unused since March.",
            "issue": issue.key.lower(),
            "payload": {"sql": "DROP TABLE legacy", "rows": 3},
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "pending"
    assert body["kind"] == "action"
    assert body["issue"] == issue.key
    assert body["requested_by"] == "engineer"
    assert body["requested_by_agent"] == "engineer"
    assert body["reviewer"] is None
    assert body["payload"] == {"sql": "DROP TABLE legacy", "rows": 3}
    assert body["decided_at"] is None
    assert Event.objects.filter(type="approval_created", data__id=body["id"]).exists()


def test_it_addresses_an_approval_to_a_reviewer(
    call: Callable[..., Any], engineer: Agent, qa: Agent, agent_key: Callable[[Agent], str]
) -> None:
    body = call("POST", "approvals", agent_key(engineer), {"title": "Merge?", "reviewer": "qa"}).json()
    assert body["reviewer"] == "qa"


def test_it_refuses_bad_approval_input(
    call: Callable[..., Any], engineer: Agent, agent_key: Callable[[Agent], str]
) -> None:
    key = agent_key(engineer)
    for body, field in (
        ({}, "title"),
        ({"title": " "}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"title": "ok", "reviewer": "nobody"}, "reviewer"),
        ({"title": "ok", "issue": "API-404"}, "issue"),
        ({"title": "ok", "payload": [1, 2]}, "payload"),
        ({"title": "ok", "kind": "archetype_patch"}, "kind"),
    ):
        resp = call("POST", "approvals", key, body)
        assert resp.status_code == 400, body
        assert resp.json()["field"] == field, resp.json()
    assert Approval.objects.count() == 0


def test_it_shows_agents_only_their_own_and_addressed_approvals(
    call: Callable[..., Any],
    api_org: Org,
    ceo: Agent,
    engineer: Agent,
    qa: Agent,
    designer: Agent,
    board_key: str,
    agent_key: Callable[[Agent], str],
) -> None:
    own = _ask(engineer, title="own")
    addressed = _ask(designer, reviewer=qa, title="addressed to qa")

    def titles(key: str, query: str = "") -> set[str]:
        return {a["title"] for a in call("GET", f"approvals{query}", key).json()["results"]}

    assert titles(agent_key(engineer)) == {"own"}
    assert titles(agent_key(qa)) == {"addressed to qa"}
    assert titles(agent_key(designer)) == {"addressed to qa"}
    assert titles(agent_key(ceo)) == {"own", "addressed to qa"}
    assert titles(board_key) == {"own", "addressed to qa"}
    assert call("GET", f"approvals/{own.pk}", agent_key(engineer)).status_code == 200
    resp = call("GET", f"approvals/{own.pk}", agent_key(qa))
    assert resp.status_code == 403
    assert resp.json()["code"] == "forbidden"
    assert call("GET", f"approvals/{addressed.pk}", agent_key(qa)).json()["reviewer"] == "qa"


def test_it_filters_approvals_by_status(call: Callable[..., Any], engineer: Agent, board_key: str) -> None:
    first = _ask(engineer, title="first")
    _ask(engineer, title="second")
    call("POST", f"approvals/{first.pk}/resolve", board_key, {"decision": "rejected"})
    assert [a["title"] for a in call("GET", "approvals?status=pending", board_key).json()["results"]] == ["second"]
    assert [a["title"] for a in call("GET", "approvals?status=rejected", board_key).json()["results"]] == ["first"]
    assert call("GET", "approvals?status=maybe", board_key).json()["field"] == "status"


def test_it_lists_many_approvals_in_a_bounded_number_of_queries(
    call: Callable[..., Any],
    api_org: Org,
    engineer: Agent,
    qa: Agent,
    board_key: str,
    django_assert_max_num_queries: Any,
) -> None:
    for i in range(30):
        issue = make_issue(api_org)
        approval_create(
            actor=Actor.for_agent(engineer), org=api_org, title=f"a{i}", issue=issue, reviewer=qa, subject_agent=qa
        )
    with django_assert_max_num_queries(4):
        body = call("GET", "approvals", board_key).json()
    assert len(body["results"]) == 30


def test_it_lets_the_addressed_reviewer_decide_once(
    call: Callable[..., Any], engineer: Agent, qa: Agent, agent_key: Callable[[Agent], str]
) -> None:
    approval = _ask(engineer, reviewer=qa)
    key = agent_key(qa)
    resp = call("POST", f"approvals/{approval.pk}/resolve", key, {"decision": "approved", "comment": "Go ahead."})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert (body["status"], body["decided_by"], body["decision_comment"]) == ("approved", "qa", "Go ahead.")
    assert body["decided_at"] is not None
    assert Event.objects.filter(type="approval_resolved", data__id=approval.pk).exists()
    resp = call("POST", f"approvals/{approval.pk}/resolve", key, {"decision": "rejected"})
    assert resp.status_code == 409
    assert resp.json()["code"] == "already_decided"
    approval.refresh_from_db()
    assert approval.status == "approved"


def test_it_lets_the_ceo_and_the_board_decide(
    call: Callable[..., Any],
    ceo: Agent,
    engineer: Agent,
    qa: Agent,
    board_key: str,
    agent_key: Callable[[Agent], str],
) -> None:
    to_humans = _ask(engineer)
    to_qa = _ask(engineer, reviewer=qa)
    resp = call("POST", f"approvals/{to_humans.pk}/resolve", agent_key(ceo), {"decision": "rejected"})
    assert resp.json()["status"] == "rejected"
    resp = call("POST", f"approvals/{to_qa.pk}/resolve", board_key, {"decision": "approved"})
    assert resp.json()["status"] == "approved"
    assert resp.json()["decided_by"].startswith("board key")


def test_it_refuses_deciders_who_may_not(
    call: Callable[..., Any],
    engineer: Agent,
    qa: Agent,
    designer: Agent,
    agent_key: Callable[[Agent], str],
) -> None:
    to_qa = _ask(engineer, reviewer=qa)
    to_humans = _ask(engineer)
    for approval, agent in ((to_qa, designer), (to_qa, engineer), (to_humans, engineer), (to_humans, qa)):
        resp = call("POST", f"approvals/{approval.pk}/resolve", agent_key(agent), {"decision": "approved"})
        assert resp.status_code == 403, (approval.title, agent.slug)
        assert resp.json()["code"] == "forbidden"
    assert Approval.objects.filter(status="pending").count() == 2


def test_it_refuses_a_bad_decision(call: Callable[..., Any], engineer: Agent, board_key: str) -> None:
    approval = _ask(engineer)
    for body in ({}, {"decision": "maybe"}, {"decision": "approved", "comment": 3}):
        resp = call("POST", f"approvals/{approval.pk}/resolve", board_key, body)
        assert resp.status_code == 400, body
    assert call("POST", "approvals/999999/resolve", board_key, {"decision": "approved"}).status_code == 404
    assert call("GET", "approvals/nope", board_key).status_code == 404
    approval.refresh_from_db()
    assert approval.status == "pending" and approval.decided_at is None


def test_it_hides_approvals_from_other_orgs(
    call: Callable[..., Any], engineer: Agent, outsider: Agent, agent_key: Callable[[Agent], str]
) -> None:
    approval = _ask(engineer)
    key = agent_key(outsider)  # another org's CEO
    assert call("GET", f"approvals/{approval.pk}", key).status_code == 404
    assert call("POST", f"approvals/{approval.pk}/resolve", key, {"decision": "approved"}).status_code == 404
    assert call("GET", "approvals", key).json()["results"] == []
    approval.refresh_from_db()
    assert approval.status == "pending"


def test_it_needs_a_key(call: Callable[..., Any]) -> None:
    assert call("GET", "approvals", None).status_code == 401
    assert call("POST", "approvals", None, {"title": "x"}).status_code == 401

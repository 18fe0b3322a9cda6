from __future__ import annotations

from typing import Any

from agents.models import Agent
from issues.models import Comment
from orgs.models import Activity, Event, Org
from tests.factories import make_agent, make_issue


def test_it_comments_on_an_own_issue(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    issue = make_issue(api_org, assignee=engineer)
    r = call("POST", f"issues/{issue.key}/comments", agent_key(engineer), {"body": "Tests pass", "kind": "evidence"})
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["kind"] == "evidence" and body["body"] == "Tests pass"
    assert body["author"] == "engineer" and body["author_kind"] == "agent"
    assert Comment.objects.get(issue=issue).author_agent == engineer
    assert Activity.objects.filter(verb="commented", object_id=issue.key).exists()
    assert Event.objects.filter(type="comment_created", data__issue_key=issue.key).exists()


def test_it_defaults_to_a_plain_comment(call: Any, api_org: Org, board_key: str) -> None:
    issue = make_issue(api_org)
    r = call("POST", f"issues/{issue.key}/comments", board_key, {"body": "Hello"})
    assert r.status_code == 201 and r.json()["kind"] == "comment" and r.json()["author_kind"] == "human"


def test_it_refuses_system_comments_and_empty_bodies(call: Any, api_org: Org, board_key: str) -> None:
    issue = make_issue(api_org)
    for payload, field in (({"body": "x", "kind": "system"}, "kind"), ({"body": "   "}, "body"), ({}, "body")):
        r = call("POST", f"issues/{issue.key}/comments", board_key, payload)
        assert r.status_code == 400, payload
        assert r.json()["field"] == field
    assert not Comment.objects.exists()


def test_it_applies_the_permission_rules(
    call: Any, api_org: Org, ceo: Agent, engineer: Agent, qa: Agent, designer: Agent, agent_key: Any
) -> None:
    """Assignee, reviewer, manager chain and CEO may comment; a peer may not."""
    lead = make_agent(api_org, slug="lead", reports_to=ceo)
    junior = make_agent(api_org, slug="junior", reports_to=lead, review_agent=qa)
    intern = make_agent(api_org, slug="intern", reports_to=junior)
    issue = make_issue(api_org, assignee=intern)
    cases = [
        (intern, 201),  # assignee
        (junior, 201),  # direct manager
        (lead, 201),  # manager further up
        (ceo, 201),  # the CEO
        (designer, 403),  # a peer
        (qa, 403),  # reviews junior's work, not intern's
        (engineer, 403),
    ]
    for agent, expected in cases:
        r = call("POST", f"issues/{issue.key}/comments", agent_key(agent), {"body": f"from {agent.slug}"})
        assert r.status_code == expected, (agent.slug, r.json())
        if expected == 403:
            assert r.json()["code"] == "forbidden" and "intern" in r.json()["error"]
    reviewed = make_issue(api_org, assignee=junior)
    assert call("POST", f"issues/{reviewed.key}/comments", agent_key(qa), {"body": "review"}).status_code == 201


def test_it_forbids_updates_by_peers_with_a_reason(
    call: Any, api_org: Org, engineer: Agent, designer: Agent, qa: Agent, agent_key: Any
) -> None:
    issue = make_issue(api_org, title="Keep", assignee=engineer)
    r = call("PATCH", f"issues/{issue.key}", agent_key(designer), {"title": "Hijacked"})
    assert r.status_code == 403 and "engineer" in r.json()["error"]
    unassigned = make_issue(api_org, title="Nobody's")
    r = call("PATCH", f"issues/{unassigned.key}", agent_key(designer), {"title": "x"})
    assert r.status_code == 403 and "unassigned" in r.json()["error"]
    # The reviewer of the assignee may move it.
    assert call("PATCH", f"issues/{issue.key}", agent_key(qa), {"priority": 1}).status_code == 200
    issue.refresh_from_db()
    assert issue.title == "Keep" and issue.priority == 1

"""POST /issues/{key}/relations and DELETE /issues/{key}/relations/{kind}/{target}."""

from __future__ import annotations

from typing import Any

from agents.models import Agent
from issues.models import IssueRelation
from orgs.models import Org
from tests.factories import make_issue


def test_it_adds_and_removes_a_relation(call: Any, api_org: Org, board_key: str) -> None:
    issue, blocker = make_issue(api_org, title="Waits"), make_issue(api_org, title="Blocks it")
    added = call("POST", f"issues/{issue.key}/relations", board_key, json={"kind": "blocked_by", "target": blocker.key})
    assert added.status_code == 201 and added.json() == {"issue": blocker.key, "kind": "blocks", "target": issue.key}
    assert IssueRelation.objects.filter(source=blocker, target=issue, kind="blocks").exists()
    mutual = call("POST", f"issues/{issue.key}/relations", board_key, json={"kind": "blocks", "target": blocker.key})
    assert mutual.status_code == 409

    removed = call("DELETE", f"issues/{issue.key}/relations/blocked_by/{blocker.key}", board_key)
    assert removed.status_code == 204 and not IssueRelation.objects.exists()
    again = call("DELETE", f"issues/{issue.key}/relations/blocked_by/{blocker.key}", board_key)
    assert again.status_code == 404 and again.json()["code"] == "not_found"


def test_it_refuses_bad_input_and_other_orgs(
    call: Any, api_org: Org, board_key: str, agent_key: Any, outsider: Agent
) -> None:
    a, b = make_issue(api_org, title="A"), make_issue(api_org, title="B")
    bad = call("POST", f"issues/{a.key}/relations", board_key, json={"kind": "loves", "target": b.key})
    assert bad.status_code == 400 and bad.json()["field"] == "kind"
    unknown = call("POST", f"issues/{a.key}/relations", board_key, json={"kind": "blocks", "target": "NOPE-1"})
    assert unknown.status_code == 400 and unknown.json()["field"] == "target"
    call("POST", f"issues/{a.key}/relations", board_key, json={"kind": "relates_to", "target": b.key})
    spy = agent_key(outsider)
    assert call("DELETE", f"issues/{a.key}/relations/relates_to/{b.key}", spy).status_code == 404
    assert call("POST", f"issues/{a.key}/relations", spy, json={"kind": "blocks", "target": b.key}).status_code == 404
    assert IssueRelation.objects.filter(source=a, target=b, kind="relates_to").count() == 1  # untouched
    # relates_to is removed from either end.
    assert call("DELETE", f"issues/{b.key}/relations/relates_to/{a.key}", board_key).status_code == 204
    assert not IssueRelation.objects.exists()

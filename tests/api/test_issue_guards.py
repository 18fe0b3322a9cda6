from __future__ import annotations

from typing import Any

from agents.models import Agent
from issues.models import Issue
from orgs.actors import Actor
from orgs.models import Org
from tests.factories import make_comment, make_issue


def test_it_answers_a_created_feature_without_criteria_with_warnings(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any
) -> None:
    key = agent_key(engineer)
    r = call("POST", "issues", key, json={"title": "Dark mode", "type": "feature", "description": "Add it."})
    assert r.status_code == 201
    assert [w["code"] for w in r.json()["warnings"]] == ["no_acceptance_criteria"]
    assert r.json()["warnings"][0]["field"] == "acceptance_criteria"
    assert Issue.objects.filter(org=api_org, title="Dark mode").exists()

    ok = call("POST", "issues", key, json={"title": "Light mode", "type": "bug", "acceptance_criteria": "It is light."})
    assert ok.status_code == 201 and ok.json()["warnings"] == []
    task = call("POST", "issues", key, json={"title": "Tidy", "type": "task"})
    assert task.json()["warnings"] == []


def test_it_refuses_to_cancel_finished_work_without_a_reason(
    call: Any, api_org: Org, engineer: Agent, ceo: Agent, agent_key: Any
) -> None:
    issue = make_issue(api_org, title="Finished", assignee=engineer)
    make_comment(issue, actor=Actor.for_agent(engineer), body="## Work complete\nAll green.")
    r = call("PATCH", f"issues/{issue.key}", agent_key(ceo), json={"status": "cancelled"})
    assert r.status_code == 409 and r.json()["code"] == "cancellation_reason_required"
    assert r.json()["completion_comment_excerpt"].startswith("## Work complete")
    ok = call("PATCH", f"issues/{issue.key}", agent_key(ceo), json={"status": "cancelled", "comment": "Superseded."})
    assert ok.status_code == 200 and ok.json()["status"] == "cancelled"

from __future__ import annotations

from typing import Any

from agents.models import Agent
from issues.models import Comment
from orgs.models import Org
from tests.factories import make_issue


def test_it_sets_and_completes_stages_through_the_api(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    issue = make_issue(api_org, title="Staged", assignee=engineer)
    key = agent_key(engineer)
    r = call("PUT", f"issues/{issue.key}/stages", key, json={"stages": ["Design", "Build"]})
    assert r.status_code == 200
    assert r.json() == {
        "stages": [{"number": 1, "title": "Design", "done": False}, {"number": 2, "title": "Build", "done": False}],
        "current_stage": 1,
        "progress": 0,
    }
    early = call("POST", f"issues/{issue.key}/stages/2/complete", key)
    assert early.status_code == 409 and early.json()["code"] == "stage_order"
    done = call("POST", f"issues/{issue.key}/stages/1/complete", key)
    assert done.status_code == 200 and done.json()["current_stage"] == 2 and done.json()["progress"] == 50
    assert call("GET", f"issues/{issue.key}/stages", key).json()["progress"] == 50
    assert call("POST", f"issues/{issue.key}/stages/7/complete", key).status_code == 404


def test_it_refuses_bad_stage_lists(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    issue = make_issue(api_org, title="Staged", assignee=engineer)
    key = agent_key(engineer)
    assert call("PUT", f"issues/{issue.key}/stages", key, json={"stages": []}).status_code == 400
    assert call("PUT", f"issues/{issue.key}/stages", key, json={"stages": ["  "]}).status_code == 400
    assert call("PUT", f"issues/{issue.key}/stages", key, json={"stages": "A"}).status_code == 400


def test_it_keeps_stages_to_those_who_may_edit_the_issue(
    call: Any, api_org: Org, engineer: Agent, designer: Agent, outsider: Agent, agent_key: Any
) -> None:
    issue = make_issue(api_org, title="Staged", assignee=engineer)
    r = call("PUT", f"issues/{issue.key}/stages", agent_key(designer), json={"stages": ["A"]})
    assert r.status_code == 403
    assert call("PUT", f"issues/{issue.key}/stages", agent_key(outsider), json={"stages": ["A"]}).status_code == 404
    assert call("GET", f"issues/{issue.key}/stages", agent_key(outsider)).status_code == 404


def test_it_answers_a_stage_comment_posted_through_the_api(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any
) -> None:
    issue = make_issue(api_org, title="Staged", assignee=engineer)
    key = agent_key(engineer)
    call("POST", f"issues/{issue.key}/comments", key, json={"body": "Stages: [A], [B]"})
    r = call("POST", f"issues/{issue.key}/comments", key, json={"body": "Stage 1: A - Complete"})
    assert r.status_code == 201
    assert Comment.objects.filter(issue=issue, kind="system").last().body == "Stage 1 acknowledged. Progress: 50%"  # type: ignore[union-attr]

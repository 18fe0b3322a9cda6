from __future__ import annotations

from typing import Any

from agents.models import Agent
from issues.models import Issue
from orgs.models import Org


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

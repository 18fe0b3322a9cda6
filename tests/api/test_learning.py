"""The learning API: board policies (board keys write), skills (agents propose, the board approves),
evaluations (read, worst first), audits (board keys start one). Another org's rows are never reachable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.models import Agent
from approvals.models import Approval, ApprovalKind, ApprovalStatus
from learning.models import BoardPolicy, Evaluation, EvaluationStatus, Skill, SkillStatus
from learning.services import policy_create
from orgs.actors import Actor
from orgs.models import Org
from runners.models import Run, RunMode, RunStatus
from tests.factories import make_agent, make_run

SYSTEM = Actor.system("tests")


def test_it_lets_only_board_keys_write_policies_and_shows_each_org_its_own(
    call: Callable[..., Any], api_org: Org, engineer: Agent, agent_key: Callable[[Agent], str], board_key: str,
    outsider: Agent,
) -> None:  # fmt: skip
    theirs = policy_create(actor=SYSTEM, org=outsider.org, text="Their secret rule")
    refused = call("POST", "board-policies", agent_key(engineer), {"text": "Agents write policies"})
    assert refused.status_code == 403 and refused.json()["code"] == "board_only"
    made = call("POST", "board-policies", board_key, {"text": "Never touch billing without approval"})
    assert made.status_code == 201, made.content
    assert made.json()["active"] is True and made.json()["slug"] == "never-touch-billing-without-approval"
    listed = call("GET", "board-policies", agent_key(engineer)).json()
    assert [p["text"] for p in listed["results"]] == ["Never touch billing without approval"]
    assert call("PATCH", f"board-policies/{theirs.pk}", board_key, {"active": False}).status_code == 404
    assert BoardPolicy.objects.get(pk=theirs.pk).active is True
    off = call("PATCH", f"board-policies/{made.json()['id']}", board_key, {"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert (
        call("PATCH", f"board-policies/{made.json()['id']}", agent_key(engineer), {"active": True}).status_code == 403
    )
    assert call("GET", "board-policies", agent_key(outsider)).json()["results"][0]["text"] == "Their secret rule"


def test_it_turns_an_agents_skill_into_a_proposal_the_board_approves(
    call: Callable[..., Any], api_org: Org, engineer: Agent, agent_key: Callable[[Agent], str], board_key: str,
    outsider: Agent,
) -> None:  # fmt: skip
    body = {"title": "Run the tests", "body": "make test -j2, then read the first failure", "archetype": "backend"}
    made = call("POST", "skills", agent_key(engineer), body)
    assert made.status_code == 201, made.content
    assert made.json()["status"] == "proposed" and made.json()["proposed_by"] == "engineer"
    approval = Approval.objects.get(org=api_org, kind=ApprovalKind.SKILL_PROPOSE)
    assert approval.status == ApprovalStatus.PENDING and approval.requested_by_agent == engineer
    # The proposer cannot decide it; the board can.
    assert (
        call("POST", f"approvals/{approval.pk}/resolve", agent_key(engineer), {"decision": "approved"}).status_code
        == 403
    )
    assert call("POST", f"approvals/{approval.pk}/resolve", board_key, {"decision": "approved"}).status_code == 200
    assert Skill.objects.get(org=api_org).status == SkillStatus.ACTIVE
    assert call("GET", f"skills/{made.json()['slug']}", agent_key(engineer)).json()["status"] == "active"
    assert call("GET", f"skills/{made.json()['slug']}", agent_key(outsider)).status_code == 404
    assert call("GET", "skills", agent_key(outsider)).json()["results"] == []
    wrong = call("POST", "skills", agent_key(engineer), {**body, "agent": "outsider"})
    assert wrong.status_code == 400 and wrong.json()["field"] == "agent"


def test_it_lists_evaluations_worst_first_within_the_org(
    call: Callable[..., Any], api_org: Org, engineer: Agent, qa: Agent, agent_key: Callable[[Agent], str],
    outsider: Agent,
) -> None:  # fmt: skip
    for agent, overall in ((engineer, 0.9), (qa, 0.2), (outsider, 0.0)):
        run = make_run(agent, mode=RunMode.TASK, status=RunStatus.COMPLETED)
        Evaluation.objects.create(
            org=agent.org, run=run, agent=agent, status=EvaluationStatus.SCORED, overall=overall, verdict=f"v{overall}"
        )
    body = call("GET", "evaluations", agent_key(engineer)).json()
    assert [e["verdict"] for e in body["results"]] == ["v0.2", "v0.9"]
    assert [e["agent"] for e in call("GET", "evaluations?agent=qa", agent_key(engineer)).json()["results"]] == ["qa"]


def test_it_starts_an_audit_for_board_keys_only(
    call: Callable[..., Any], api_org: Org, engineer: Agent, agent_key: Callable[[Agent], str], board_key: str
) -> None:
    assert call("POST", "audits", agent_key(engineer)).status_code == 403
    none = call("POST", "audits", board_key)
    assert none.status_code == 400 and none.json()["field"] == "auditor"
    make_agent(api_org, slug="auditor", archetype="auditor")
    started = call("POST", "audits", board_key)
    assert started.status_code == 201, started.content
    run = Run.objects.get(pk=started.json()["run_id"])
    assert run.mode == RunMode.AUDIT and run.agent.slug == "auditor" and run.status == RunStatus.QUEUED

"""Board policies are in every prompt of the org; an approved skill reaches the matching agents' prompts
(and is recorded as used by their runs), never another's."""

from __future__ import annotations

from typing import Any

import pytest

from approvals.models import Approval, ApprovalKind
from approvals.services import approval_resolve
from learning.models import SkillUse
from learning.services import policy_create, policy_update, skill_propose
from orgs.actors import Actor
from runners.execution import execute_run
from runners.models import RunMode, RunStatus
from runners.prompt import prompt_build
from tests.factories import make_agent, make_ceo, make_issue, make_org, make_run

pytestmark = pytest.mark.django_db(transaction=True)
BOARD = Actor.human(label="alice")


def test_it_puts_the_active_board_policies_in_every_prompt_of_the_org(org: Any) -> None:
    ceo = make_ceo(org)
    dev = make_agent(org, slug="dev", reports_to=ceo)
    policy = policy_create(actor=BOARD, org=org, text="Never touch billing without approval")
    elsewhere = make_agent(make_org(), slug="elsewhere")
    issue = make_issue(org, title="Fix login", assignee=dev)
    prompts = [
        prompt_build(agent=ceo, issue=None, mode="heartbeat").task,
        prompt_build(agent=dev, issue=issue, mode="task").task,
        prompt_build(agent=dev, issue=issue, mode="review").task,
    ]
    assert all("Never touch billing without approval" in p for p in prompts)
    assert "Never touch billing" not in prompt_build(agent=elsewhere, issue=None, mode="heartbeat").task
    policy_update(actor=BOARD, policy=policy, active=False)
    assert "Never touch billing" not in prompt_build(agent=dev, issue=issue, mode="task").task


def test_it_gives_an_approved_skill_to_matching_agents_only(org: Any) -> None:
    qa = make_agent(org, slug="qa", archetype="qa", runner="dry_run")
    backend = make_agent(org, slug="dev", archetype="backend", runner="dry_run")
    skill = skill_propose(
        actor=Actor.for_agent(qa),
        org=org,
        title="Release checklist",
        body="Tag, changelog, smoke test.",
        archetype="qa",
    )
    assert "Release checklist" not in prompt_build(agent=qa, issue=None, mode="heartbeat").task  # not approved yet
    approval = Approval.objects.get(kind=ApprovalKind.SKILL_PROPOSE, payload__skill_id=skill.pk)
    approval_resolve(actor=BOARD, approval=approval, decision="approved")

    assert "Tag, changelog, smoke test." in prompt_build(agent=qa, issue=None, mode="heartbeat").task
    assert "Release checklist" not in prompt_build(agent=backend, issue=None, mode="heartbeat").task
    run = make_run(qa, issue=make_issue(org, title="Ship 1.2", assignee=qa), mode=RunMode.TASK)
    assert execute_run(run.pk) == RunStatus.COMPLETED
    assert list(SkillUse.objects.values_list("skill_id", "run_id")) == [(skill.pk, run.pk)]


def test_it_gives_a_skill_attached_to_one_agent_to_that_agent_only(org: Any) -> None:
    one = make_agent(org, slug="one", archetype="backend")
    two = make_agent(org, slug="two", archetype="backend")
    skill_propose(actor=BOARD, org=org, title="Use the staging DB", body="DATABASE=staging", agent=one)
    assert "Use the staging DB" in prompt_build(agent=one, issue=None, mode="heartbeat").task
    assert "Use the staging DB" not in prompt_build(agent=two, issue=None, mode="heartbeat").task

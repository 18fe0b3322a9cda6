"""The learning services' own rules: who may write what, and what a stored evaluation must hold."""

from __future__ import annotations

from typing import Any

import pytest

from approvals.models import Approval, ApprovalKind
from approvals.services import approval_resolve
from learning.models import Evaluation, EvaluationStatus, SkillStatus
from learning.selectors import learning_settings
from learning.services import (
    evaluation_record,
    learning_settings_update,
    policy_create,
    policy_propose,
    reflection_record,
    skill_propose,
    skill_retire,
)
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from runners.models import RunMode, RunStatus
from tests.factories import make_agent, make_org, make_run

BOARD = Actor.human(label="alice")


def test_it_lets_only_the_board_write_policies_and_settings(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    with pytest.raises(Forbidden):
        policy_create(actor=Actor.for_agent(agent), org=org, text="Agents make the rules")
    with pytest.raises(Forbidden):
        learning_settings_update(actor=Actor.for_agent(agent), org=org, evaluations=True)
    outsider = make_agent(make_org(), slug="outsider")
    with pytest.raises(Forbidden):
        policy_propose(actor=Actor.for_agent(outsider), org=org, text="Their rule")
    assert not learning_settings(org).evaluations  # off by default, and still off
    with pytest.raises(InvalidInput):
        policy_create(actor=BOARD, org=org, text="   ")


def test_it_rejects_a_skill_the_board_refuses_and_retires_an_active_one(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    skill = skill_propose(actor=Actor.for_agent(agent), org=org, title="Skip the tests", body="Never run tests.")
    assert skill.status == SkillStatus.PROPOSED
    approval = Approval.objects.get(kind=ApprovalKind.SKILL_PROPOSE)
    approval_resolve(actor=BOARD, approval=approval, decision="rejected")
    skill.refresh_from_db()
    assert skill.status == SkillStatus.REJECTED
    with pytest.raises(Conflict):
        skill_retire(actor=BOARD, skill=skill)
    with pytest.raises(Forbidden):  # an agent cannot propose into another org
        skill_propose(actor=Actor.for_agent(agent), org=make_org(), title="x", body="y")
    with pytest.raises(InvalidInput):
        skill_propose(actor=BOARD, org=org, title="For them", body="z", agent=make_agent(make_org(), slug="them"))


def test_it_stores_only_four_scores_between_0_and_1_once(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    run = make_run(agent, mode=RunMode.TASK, status=RunStatus.COMPLETED)
    evaluation = Evaluation.objects.create(org=org, run=run, agent=agent)
    bad = {"fidelity": 1.5, "scope_drift": 0, "missed_criteria": 0, "unrequested_changes": 0}
    with pytest.raises(InvalidInput):
        evaluation_record(evaluation=evaluation, status=EvaluationStatus.SCORED, scores=bad, verdict="x")
    good = {**bad, "fidelity": 1.0}
    evaluation_record(evaluation=evaluation, status=EvaluationStatus.SCORED, scores=good, verdict="Perfect")
    assert Evaluation.objects.get(pk=evaluation.pk).overall == 1.0
    with pytest.raises(Conflict):
        evaluation_record(evaluation=evaluation, status=EvaluationStatus.MALFORMED, raw="again")


def test_it_clips_a_long_reflection_and_ignores_an_empty_one(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    assert reflection_record(agent=agent, run=None, issue=None, text="  \n ") is None
    long = reflection_record(agent=agent, run=None, issue=None, text="word " * 500)
    assert long is not None and len(long.text) == 1001 and long.text.endswith("…")

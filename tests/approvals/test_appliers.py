"""Deciding an approval applies the decision in the same transaction, exactly once."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Agent
from approvals.models import Approval, ApprovalKind, ApprovalStatus
from approvals.services import approval_create, approval_resolve
from blocks.models import WorkBlockStatus
from blocks.services import work_block_transition
from issues.models import Status
from issues.services import issue_transition
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden
from tests.factories import make_agent, make_ceo, make_issue, make_work_block

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")
BOARD = Actor.human(label="alice")


def _escalated(org: Any, assignee: Agent) -> Any:
    issue = make_issue(org, assignee=assignee)
    for to in (Status.IN_PROGRESS, Status.IN_REVIEW):
        issue_transition(actor=SYSTEM, issue=issue, to=to)
    issue_transition(actor=SYSTEM, issue=issue, to=Status.BOARD_REVIEW, comment="Not sure this meets the bar.")
    return issue


def test_it_opens_a_board_approval_when_an_issue_is_escalated(org: Any) -> None:
    issue = _escalated(org, make_agent(org))
    approval = Approval.objects.get(issue=issue)
    assert approval.kind == ApprovalKind.BOARD_REVIEW and approval.status == ApprovalStatus.PENDING
    assert issue.key in approval.title and approval.reason == "Not sure this meets the bar."


@pytest.mark.parametrize(("decision", "status"), [("approved", Status.DONE), ("rejected", Status.TODO)])
def test_it_moves_the_escalated_issue_when_the_board_decides(org: Any, decision: str, status: str) -> None:
    issue = _escalated(org, make_agent(org))
    approval = Approval.objects.get(issue=issue)
    approval_resolve(actor=BOARD, approval=approval, decision=decision, comment="Checked the demo")
    issue.refresh_from_db()
    assert issue.status == status
    assert issue.comments.filter(body__contains="Checked the demo").exists()


def test_it_closes_the_board_approval_when_the_issue_is_decided_directly(org: Any) -> None:
    issue = _escalated(org, make_agent(org))
    issue_transition(actor=BOARD, issue=issue, to=Status.WONT_DO)
    approval = Approval.objects.get(issue=issue)
    assert approval.status == ApprovalStatus.REJECTED and "wont_do" in approval.decision_comment
    with pytest.raises(Conflict) as exc:
        approval_resolve(actor=BOARD, approval=approval, decision="approved")
    assert exc.value.code == "already_decided"


def test_it_refuses_a_stale_approval_and_changes_nothing(org: Any) -> None:
    issue = _escalated(org, make_agent(org))
    approval = Approval.objects.get(issue=issue)
    # The issue moved on behind the approval's back (e.g. fixed by hand in the admin).
    type(issue).objects.filter(pk=issue.pk).update(status=Status.TODO)
    with pytest.raises(Conflict) as exc:
        approval_resolve(actor=BOARD, approval=approval, decision="approved")
    assert exc.value.code == "stale"
    approval.refresh_from_db()
    issue.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING and issue.status == Status.TODO


def test_it_never_lets_an_agent_decide_a_human_gate(org: Any) -> None:
    ceo = make_ceo(org)
    issue = _escalated(org, make_agent(org, reports_to=ceo))
    approval = Approval.objects.get(issue=issue)
    with pytest.raises(Forbidden):
        approval_resolve(actor=Actor.for_agent(ceo), approval=approval, decision="approved")


@pytest.mark.parametrize(("decision", "status"), [("approved", "active"), ("rejected", "cancelled")])
def test_it_activates_or_cancels_a_proposed_work_block(org: Any, decision: str, status: str) -> None:
    block = make_work_block(org, title="Sprint 1")
    approval = approval_create(
        actor=SYSTEM, org=org, kind=ApprovalKind.WORK_BLOCK_ACTIVATE, title="Activate Sprint 1", work_block=block
    )
    approval_resolve(actor=BOARD, approval=approval, decision=decision)
    block.refresh_from_db()
    assert block.status == status


@pytest.mark.parametrize(("decision", "status"), [("approved", "shipped"), ("rejected", "active")])
def test_it_ships_or_reopens_a_ready_work_block(org: Any, decision: str, status: str) -> None:
    block = make_work_block(org, title="Sprint 2")
    work_block_transition(actor=SYSTEM, block=block, to=WorkBlockStatus.ACTIVE)
    work_block_transition(actor=SYSTEM, block=block, to=WorkBlockStatus.READY)
    approval = approval_create(
        actor=SYSTEM, org=org, kind=ApprovalKind.WORK_BLOCK_SHIP, title="Ship Sprint 2", work_block=block
    )
    approval_resolve(actor=BOARD, approval=approval, decision=decision)
    block.refresh_from_db()
    assert block.status == status


def test_it_creates_the_proposed_agent_only_when_approved(org: Any) -> None:
    ceo = make_ceo(org)
    payload = {"agent": {"slug": "tester", "name": "Tester", "archetype": "qa", "runner": "noop", "reports_to": "ceo"}}
    rejected = approval_create(
        actor=Actor.for_agent(ceo), org=org, kind=ApprovalKind.AGENT_ADD, title="Hire a tester", payload=payload
    )
    approval_resolve(actor=BOARD, approval=rejected, decision="rejected")
    assert not Agent.objects.filter(org=org, slug="tester").exists()
    approved = approval_create(
        actor=Actor.for_agent(ceo), org=org, kind=ApprovalKind.AGENT_ADD, title="Hire a tester", payload=payload
    )
    approval_resolve(actor=BOARD, approval=approved, decision="approved")
    tester = Agent.objects.get(org=org, slug="tester")
    assert tester.archetype == "qa" and tester.reports_to_id == ceo.pk


def test_it_refuses_to_hire_under_an_unknown_manager_and_keeps_the_approval_pending(org: Any) -> None:
    from orgs.errors import InvalidInput

    ceo = make_ceo(org)
    payload = {"agent": {"slug": "tester", "archetype": "qa", "runner": "noop", "reports_to": "nobody"}}
    approval = approval_create(
        actor=Actor.for_agent(ceo), org=org, kind=ApprovalKind.AGENT_ADD, title="Hire a tester", payload=payload
    )
    with pytest.raises(InvalidInput):
        approval_resolve(actor=BOARD, approval=approval, decision="approved")
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING
    assert not Agent.objects.filter(org=org, slug="tester").exists()

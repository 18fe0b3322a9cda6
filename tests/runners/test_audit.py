"""Audit mode: the auditor's run reviews shipped work; each proposal it answers with becomes an approval,
and every finding is stored with the audit run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from approvals.models import Approval, ApprovalKind, ApprovalStatus
from approvals.services import approval_resolve
from issues.models import Issue
from learning.models import AuditFinding, BoardPolicy, Evaluation, EvaluationStatus, FindingKind
from learning.services import learning_mark_audit, learning_settings_update
from orgs.actors import Actor
from orgs.errors import Forbidden
from runners import audit
from runners.audit import audit_request, audits_due
from runners.execution import execute_run
from runners.models import Run, RunMode, RunStatus
from runners.prompt import prompt_build
from tests.factories import make_agent, make_issue, make_run
from tests.runners.learning_support import scripted_agent

pytestmark = pytest.mark.django_db(transaction=True)
BOARD = Actor.human(label="alice")

FINDINGS = {
    "findings": [
        {"kind": "note", "title": "Backend runs skip the tests", "body": "ACME-1 and ACME-2 shipped untested."},
        {"kind": "policy", "title": "Tests first", "text": "Run the test suite before moving to in_review."},
        {"kind": "skill", "title": "Run the tests", "body": "make test, read the first failure",
         "archetype": "backend"},
        {"kind": "issue", "title": "Add a CI check", "description": "Fail the build on a red test.", "body": "why"},
        {"kind": "archetype_patch", "title": "Backend must test", "archetype": "backend",
         "proposed_text": "# Backend\n\nAlways run the tests before in_review.\n",
         "body": "Two runs shipped untested."},
    ]
}  # fmt: skip


def test_it_turns_each_proposal_of_an_audit_into_an_approval(org: Any, tmp_path: Path) -> None:
    auditor = scripted_agent(org, tmp_path, "auditor", "My review.\n" + json.dumps(FINDINGS), archetype="auditor")
    dev = make_agent(org, slug="dev")
    shipped = make_issue(org, title="Invoices export", assignee=dev)
    Issue.objects.filter(pk=shipped.pk).update(status="done")
    Evaluation.objects.create(
        org=org, run=make_run(dev, issue=shipped, status=RunStatus.COMPLETED), agent=dev, archetype="backend",
        issue=shipped, status=EvaluationStatus.SCORED, overall=0.3, fidelity=0.5, scope_drift=0.2,
        missed_criteria=0.6, unrequested_changes=0.1, verdict="Missed the header row",
    )  # fmt: skip

    run = audit_request(actor=BOARD, org=org)
    assert run.agent == auditor and run.mode == RunMode.AUDIT
    assert execute_run(run.pk) == RunStatus.COMPLETED
    run.refresh_from_db()
    assert "Invoices export" in run.prompt and "Missed the header row" in run.prompt  # shipped work, evaluations

    findings = list(AuditFinding.objects.filter(run=run).order_by("id"))
    assert [f.kind for f in findings] == ["note", "policy", "skill", "issue", "archetype_patch"]
    assert findings[0].approval is None and all(f.approval is not None for f in findings[1:])
    kinds = {a.kind for a in Approval.objects.filter(org=org, status=ApprovalStatus.PENDING)}
    assert kinds == {
        ApprovalKind.POLICY_PROPOSE, ApprovalKind.SKILL_PROPOSE, ApprovalKind.ISSUE_PROPOSE,
        ApprovalKind.ARCHETYPE_PATCH,
    }  # fmt: skip
    assert all(f.approval.requested_by_agent == auditor for f in findings[1:] if f.approval)

    # Nothing takes effect until the board approves.
    assert "Run the test suite" not in prompt_build(agent=dev, issue=None, mode="heartbeat").task
    policy_approval = findings[1].approval
    assert policy_approval is not None
    approval_resolve(actor=BOARD, approval=policy_approval, decision="approved")
    assert BoardPolicy.objects.get(org=org).text == "Run the test suite before moving to in_review."
    assert "Run the test suite" in prompt_build(agent=dev, issue=None, mode="heartbeat").task
    issue_approval = findings[3].approval
    assert issue_approval is not None
    approval_resolve(actor=BOARD, approval=issue_approval, decision="approved")
    assert Issue.objects.filter(org=org, title="Add a CI check").exists()


def test_it_keeps_a_malformed_audit_answer_as_a_note(org: Any, tmp_path: Path) -> None:
    scripted_agent(org, tmp_path, "auditor", "Everything looks fine to me.", archetype="auditor")
    run = audit_request(actor=BOARD, org=org)
    assert execute_run(run.pk) == RunStatus.COMPLETED
    finding = AuditFinding.objects.get(run=run)
    assert finding.kind == FindingKind.NOTE and finding.error == "malformed answer"
    assert not Approval.objects.filter(org=org).exists()


def test_it_lets_only_the_board_start_an_audit(org: Any) -> None:
    agent = make_agent(org, slug="auditor", archetype="auditor")
    with pytest.raises(Forbidden):
        audit_request(actor=Actor.for_agent(agent), org=org)
    assert not Run.objects.filter(mode=RunMode.AUDIT).exists()


def test_it_queues_scheduled_audits_when_they_are_due(org: Any, monkeypatch: Any) -> None:
    make_agent(org, slug="auditor", archetype="auditor")
    monkeypatch.setattr(audit, "_next_check", 0.0)
    assert audits_due() == []  # no schedule set
    learning_settings_update(actor=BOARD, org=org, audit_every_hours=24)
    monkeypatch.setattr(audit, "_next_check", 0.0)
    assert len(audits_due()) == 1
    monkeypatch.setattr(audit, "_next_check", 0.0)
    assert audits_due() == []  # one is queued already
    Run.objects.filter(mode=RunMode.AUDIT).update(status=RunStatus.COMPLETED)
    org.refresh_from_db()
    learning_mark_audit(org=org)
    monkeypatch.setattr(audit, "_next_check", 0.0)
    assert audits_due() == []  # the last one was queued less than 24 hours ago

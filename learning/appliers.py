"""What deciding a learning approval does (registered in ``LearningConfig.ready``)."""

from __future__ import annotations

from approvals.models import Approval, ApprovalStatus
from approvals.registry import stale
from issues.models import IssueType
from issues.services import issue_create
from learning.models import Skill
from learning.services import policy_create, skill_decide
from orgs.actors import Actor
from orgs.errors import Conflict


def skill_propose(approval: Approval, actor: Actor) -> None:
    skill_id = (approval.payload or {}).get("skill_id")
    skill = Skill.objects.filter(org_id=approval.org_id, pk=int(skill_id or 0)).first()
    if skill is None:
        raise stale(approval, "the proposed skill is gone")
    try:
        skill_decide(actor=actor, skill=skill, approve=approval.status == ApprovalStatus.APPROVED)
    except Conflict as exc:
        raise stale(approval, exc.message) from exc


def policy_propose(approval: Approval, actor: Actor) -> None:
    if approval.status == ApprovalStatus.APPROVED:
        policy_create(actor=actor, org=approval.org, text=str((approval.payload or {}).get("text", "")))


def improvement_issue(approval: Approval, actor: Actor) -> None:
    if approval.status != ApprovalStatus.APPROVED:
        return
    payload = approval.payload or {}
    issue_create(
        actor=actor,
        org=approval.org,
        title=str(payload.get("title", "")),
        description=str(payload.get("description", "")),
        acceptance_criteria=str(payload.get("acceptance_criteria", "")),
        type=IssueType.TASK,
    )

"""One mechanism for every human gate: create an approval, then resolve it once."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from agents.models import Agent
from agents.selectors import is_ceo
from approvals.models import Approval, ApprovalKind, ApprovalStatus
from approvals.registry import HUMAN_ONLY_KINDS, applier_for
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from orgs.events import EventType, event_publish
from orgs.models import Org
from orgs.services import activity_record, require_member

DECISIONS = (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)


def approval_event_data(approval: Approval) -> dict[str, Any]:
    return {
        "id": approval.pk,
        "kind": approval.kind,
        "status": approval.status,
        "title": approval.title,
        "issue_key": approval.issue.key if approval.issue_id and approval.issue else None,
        "requested_by_agent_id": approval.requested_by_agent_id,
        "reviewer_id": approval.reviewer_id,
    }


@transaction.atomic
def approval_create(
    *,
    actor: Actor,
    org: Org,
    title: str,
    kind: str = ApprovalKind.ACTION,
    reason: str = "",
    issue: Any = None,
    work_block: Any = None,
    archetype_patch: Any = None,
    subject_agent: Agent | None = None,
    reviewer: Agent | None = None,
    payload: dict[str, Any] | None = None,
) -> Approval:
    """Ask for a decision. ``reviewer`` addresses an agent; otherwise the humans decide."""
    require_member(actor, org.pk)
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput("An approval needs a title saying what is asked.", field="title")
    if len(title) > 300:
        raise InvalidInput("The title is at most 300 characters.", field="title")
    if kind not in ApprovalKind.values:
        raise InvalidInput(f"Unknown approval kind {kind!r}.", field="kind")
    related = (
        ("issue", issue),
        ("work_block", work_block),
        ("reviewer", reviewer),
        ("subject_agent", subject_agent),
        ("archetype_patch", archetype_patch),
    )
    for field, obj in related:
        if obj is not None and obj.org_id != org.pk:
            raise InvalidInput(f"{field} belongs to another org.", field=field)
    approval = Approval.objects.create(
        org=org,
        kind=kind,
        title=title,
        reason=(reason or "").strip(),
        issue=issue,
        work_block=work_block,
        archetype_patch=archetype_patch,
        subject_agent=subject_agent,
        reviewer=reviewer,
        payload=payload or {},
        **actor.author_fields("requested_by"),
    )
    activity_record(org=org, actor=actor, verb="requested approval", obj=approval)
    event_publish(org=org, type=EventType.APPROVAL_CREATED, data=approval_event_data(approval))
    return approval


def _may_decide(actor: Actor, approval: Approval) -> str | None:
    if actor.agent is None:
        return None if actor.board else "Only the board may decide approvals."
    agent = actor.agent
    if agent.org_id != approval.org_id:
        return "This approval belongs to another org."
    if approval.kind in HUMAN_ONLY_KINDS:
        return f"{approval.get_kind_display()} approvals are decided by humans."
    # Checked before any role: naming someone else as reviewer must not let the CEO wave its own request through.
    if approval.requested_by_agent_id == agent.pk:
        return "You cannot decide your own request."
    if approval.reviewer_id == agent.pk or (approval.reviewer_id is None and is_ceo(agent)):
        return None
    if is_ceo(agent) and approval.reviewer_id is not None:
        return None
    return "Only the addressed reviewer, the CEO or the board may decide this approval."


def _settle(approval: Approval, *, actor: Actor, decision: str, comment: str) -> bool:
    """Mark a pending approval decided (conditional update); False when it was no longer pending."""
    user = actor.user if actor.user is not None and actor.user.pk else None
    updated = Approval.objects.filter(pk=approval.pk, status=ApprovalStatus.PENDING).update(
        status=decision,
        decided_by_agent=actor.agent,
        decided_by_user=user,
        decided_by_label=str(actor)[:100],
        decision_comment=(comment or "").strip(),
        decided_at=timezone.now(),
    )
    approval.refresh_from_db()
    return bool(updated)


@transaction.atomic
def approvals_settle_pending(*, actor: Actor, pending: QuerySet[Approval], decision: str, comment: str) -> int:
    """Close approvals whose subject was decided elsewhere (on the issue, on the patch) without applying them.

    Otherwise they would wait forever, or be decided later against a subject that moved on.
    Returns how many were closed; each publishes ``approval_resolved`` (Telegram edits its message).
    """
    closed = 0
    for approval in pending.filter(status=ApprovalStatus.PENDING):
        if _settle(approval, actor=actor, decision=decision, comment=comment):
            event_publish(org=approval.org, type=EventType.APPROVAL_RESOLVED, data=approval_event_data(approval))
            closed += 1
    return closed


@transaction.atomic
def approval_resolve(*, actor: Actor, approval: Approval, decision: str, comment: str = "") -> Approval:
    """Approve or reject a pending approval exactly once and apply the decision.

    Raises Conflict (code ``already_decided``) when it was decided before.
    """
    if decision not in DECISIONS:
        raise InvalidInput("decision must be approved or rejected.", field="decision")
    reason = _may_decide(actor, approval)
    if reason:
        raise Forbidden(reason)
    if not _settle(approval, actor=actor, decision=decision, comment=comment):
        raise Conflict(
            f"This approval was already {approval.status} by {approval.decided_by_label or 'someone'}.",
            code="already_decided",
            status=approval.status,
        )
    applier = applier_for(str(approval.kind))
    if applier is not None:
        applier(approval, actor)
    activity_record(
        org=approval.org, actor=actor, verb=str(decision), obj=approval, details={"comment": approval.decision_comment}
    )
    event_publish(org=approval.org, type=EventType.APPROVAL_RESOLVED, data=approval_event_data(approval))
    return approval

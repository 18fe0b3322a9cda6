"""What deciding each kind of approval does, applied in the deciding transaction.

Every applier receives the approval already marked approved or rejected and the
deciding actor. An applier that finds its subject moved on meanwhile (a stale
approval) raises Conflict, which rolls the decision back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from approvals.models import Approval, ApprovalKind, ApprovalStatus
from orgs.actors import Actor
from orgs.errors import Conflict

Applier = Callable[[Approval, Actor], None]


def _stale(approval: Approval, why: str) -> Conflict:
    return Conflict(f"This approval is stale: {why}. Nothing was changed.", code="stale")


def _archetype_patch(approval: Approval, actor: Actor) -> None:
    from archetypes.services import archetype_patch_approve, archetype_patch_reject

    patch = approval.archetype_patch
    if patch is None:
        return
    if approval.status == ApprovalStatus.APPROVED:
        archetype_patch_approve(actor=actor, patch=patch, comment=approval.decision_comment)
    else:
        archetype_patch_reject(actor=actor, patch=patch, comment=approval.decision_comment)


def _work_block(approval: Approval, actor: Actor, *, expected: str, on_approve: str, on_reject: str) -> None:
    from blocks.services import work_block_transition

    block = approval.work_block
    if block is None:
        return
    block.refresh_from_db()
    if block.status != expected:
        raise _stale(approval, f"work block {block.title!r} is {block.status}, not {expected}")
    to = on_approve if approval.status == ApprovalStatus.APPROVED else on_reject
    work_block_transition(actor=actor, block=block, to=to)


def _work_block_activate(approval: Approval, actor: Actor) -> None:
    _work_block(approval, actor, expected="proposed", on_approve="active", on_reject="cancelled")


def _work_block_ship(approval: Approval, actor: Actor) -> None:
    _work_block(approval, actor, expected="ready", on_approve="shipped", on_reject="active")


def _board_review(approval: Approval, actor: Actor) -> None:
    """Approved → done; rejected → back to todo with the board's comment for the assignee."""
    from issues.models import Status
    from issues.services import issue_transition

    issue = approval.issue
    if issue is None:
        return
    issue.refresh_from_db()
    if issue.status != Status.BOARD_REVIEW:
        raise _stale(approval, f"{issue.key} is {issue.status}, no longer in board review")
    approved = approval.status == ApprovalStatus.APPROVED
    note = approval.decision_comment
    comment = f"The board {'approved' if approved else 'sent it back'}" + (f": {note}" if note else ".")
    issue_transition(
        actor=actor, issue=issue, to=Status.DONE if approved else Status.TODO, comment=comment, check=False
    )


def _agent_add(approval: Approval, actor: Actor) -> None:
    """Approved → the agent described by the payload is created (its config as proposed)."""
    from agents.selectors import agent_ref
    from agents.services import agent_create

    if approval.status != ApprovalStatus.APPROVED:
        return
    spec: dict[str, Any] = dict(approval.payload.get("agent") or approval.payload)
    slug = str(spec.pop("slug", "") or "")
    name = str(spec.pop("name", "") or slug)
    for key in ("reports_to", "review_agent"):
        ref = spec.get(key)
        if isinstance(ref, str):
            spec[key] = agent_ref(approval.org, ref, key)
    allowed = {k: v for k, v in spec.items() if k not in {"org", "status"}}
    agent_create(actor=actor, org=approval.org, slug=slug, name=name, **allowed)


def _budget_raise(approval: Approval, actor: Actor) -> None:
    """Nothing to write: an approved raise counts toward the agent's budget for its day.

    ``runners.budget`` adds today's approved raises (payload ``tokens`` /
    ``cost_usd``) to the agent's daily limits, so the raise ends with the day.
    """


APPLIERS: dict[str, Applier] = {
    ApprovalKind.ARCHETYPE_PATCH: _archetype_patch,
    ApprovalKind.WORK_BLOCK_ACTIVATE: _work_block_activate,
    ApprovalKind.WORK_BLOCK_SHIP: _work_block_ship,
    ApprovalKind.BOARD_REVIEW: _board_review,
    ApprovalKind.AGENT_ADD: _agent_add,
    ApprovalKind.BUDGET_RAISE: _budget_raise,
}

# Gates only humans hold: agents (even the CEO) may ask but never decide these.
HUMAN_ONLY_KINDS: frozenset[str] = frozenset(APPLIERS)

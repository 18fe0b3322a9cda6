"""Permission-scoped reads of approvals.

The board and the CEO see every approval of their org; any other agent sees the
approvals it asked for and those addressed to it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from agents.selectors import is_ceo
from approvals.models import Approval
from orgs.actors import Actor
from orgs.errors import Forbidden, NotFound
from orgs.models import Org
from orgs.numbers import row_id


def _sees_all(actor: Actor) -> bool:
    return actor.agent is None or is_ceo(actor.agent)


def approvals_visible_to(*, actor: Actor, org: Org) -> QuerySet[Approval]:
    """The approvals of ``org`` that ``actor`` may read, newest first, with their relations loaded."""
    rows = Approval.objects.filter(org=org).select_related(
        "issue", "reviewer", "requested_by_agent", "subject_agent", "decided_by_agent"
    )
    if not actor.belongs_to(org):
        return rows.none()
    if not _sees_all(actor):
        assert actor.agent is not None
        rows = rows.filter(Q(requested_by_agent=actor.agent) | Q(reviewer=actor.agent))
    return rows.order_by("-created_at", "-id")


def approval_get_for(*, actor: Actor, org: Org, approval_id: Any, to_decide: bool = False) -> Approval:
    """Approval ``approval_id`` of ``org``: NotFound outside the org, Forbidden when not visible.

    With ``to_decide`` the visibility check is left to ``approval_resolve``, which
    says precisely who may decide.
    """
    pk = row_id(approval_id)
    approval = None
    if pk is not None and actor.belongs_to(org):
        approval = (
            Approval.objects.select_related("org", "issue", "reviewer", "requested_by_agent", "subject_agent")
            .filter(org=org, pk=pk)
            .first()
        )
    if approval is None:
        raise NotFound(f"There is no approval {approval_id}.")
    agent = actor.agent
    involved = agent is not None and agent.pk in (approval.requested_by_agent_id, approval.reviewer_id)
    if not to_decide and not _sees_all(actor) and not involved:
        raise Forbidden("You may only see approvals you asked for or that are addressed to you.")
    return approval

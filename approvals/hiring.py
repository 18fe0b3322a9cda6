"""The CEO's hire: a pending ``agent_add`` approval; its applier (``approvals.appliers``) creates the agent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from agents.models import Agent
from agents.selectors import agent_ref, is_ceo
from approvals.models import Approval, ApprovalKind
from approvals.services import approval_create
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden
from orgs.models import Org


@transaction.atomic
def agent_hire_propose(*, actor: Actor, org: Org, spec: dict[str, Any]) -> Approval:
    """Ask the humans to add the agent ``spec`` describes (validated input: slug, name, archetype, config).

    Checked now, so a bad proposal fails at once rather than at approval: only the CEO proposes, the
    slug must be free and the managers named must exist. Approving creates the agent exactly as asked.
    """
    if actor.agent is None or not is_ceo(actor.agent):
        raise Forbidden("Only the CEO proposes hires; board keys create agents directly.", code="ceo_only")
    slug = str(spec["slug"])
    if Agent.objects.filter(org=org, slug=slug).exists():
        raise Conflict(f"There is already an agent @{slug}.", code="slug_taken", field="slug")
    for field in ("reports_to", "review_agent"):
        agent_ref(org, spec.get(field), field)  # an unknown manager or reviewer is refused here
    payload = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in spec.items()}  # JSON-safe
    name = payload.get("name") or slug
    return approval_create(
        actor=actor,
        org=org,
        kind=ApprovalKind.AGENT_ADD,
        title=f"Hire {name} (@{slug}) as {payload.get('archetype') or 'an agent'}",
        reason=f"Proposed by the CEO. Approving creates @{slug} with the configuration in the payload.",
        payload={"agent": payload},
    )

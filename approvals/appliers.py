"""Appliers for the kinds whose subject lies below ``approvals`` (agents), registered in ``ApprovalsConfig.ready``."""

from __future__ import annotations

from typing import Any

from agents.selectors import agent_ref
from agents.services import agent_create
from approvals.models import Approval, ApprovalStatus
from orgs.actors import Actor


def agent_add(approval: Approval, actor: Actor) -> None:
    """Approved → the agent described by the payload is created (its config as proposed)."""
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

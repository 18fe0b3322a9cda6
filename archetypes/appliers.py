"""Deciding an archetype patch approval approves or rejects the patch (registered in ``ArchetypesConfig.ready``)."""

from __future__ import annotations

from approvals.models import Approval, ApprovalStatus
from archetypes.services import archetype_patch_approve, archetype_patch_reject
from orgs.actors import Actor


def archetype_patch(approval: Approval, actor: Actor) -> None:
    patch = approval.archetype_patch
    if patch is None:
        return
    if approval.status == ApprovalStatus.APPROVED:
        archetype_patch_approve(actor=actor, patch=patch, comment=approval.decision_comment)
    else:
        archetype_patch_reject(actor=actor, patch=patch, comment=approval.decision_comment)

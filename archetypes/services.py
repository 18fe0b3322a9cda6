"""Archetype patches: proposed, approved (written to the override directory), rejected, rolled back."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from approvals.models import Approval, ApprovalKind
from approvals.services import approval_create, approvals_settle_pending
from archetypes.loader import SLUG_RE, archetype_get, org_override_dir
from archetypes.models import ArchetypePatch, PatchStatus
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from orgs.models import Org
from orgs.services import activity_record, require_member

MAX_TEXT = 200_000


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


@transaction.atomic
def archetype_patch_create(
    *, actor: Actor, org: Org, archetype: str, proposed_text: str, reason: str = ""
) -> ArchetypePatch:
    """Propose replacement text for an archetype and ask the humans to approve it."""
    require_member(actor, org.pk)

    archetype = (archetype or "").strip()
    if not SLUG_RE.match(archetype):
        raise InvalidInput("archetype must be an archetype slug such as qa or backend.", field="archetype")
    text = proposed_text or ""
    if not text.strip():
        raise InvalidInput("proposed_text must hold the full new archetype text.", field="proposed_text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"proposed_text is longer than {MAX_TEXT} characters.", field="proposed_text")
    patch = ArchetypePatch.objects.create(
        org=org,
        archetype=archetype,
        proposed_text=text,
        reason=(reason or "").strip(),
        **actor.author_fields("proposed_by"),
    )
    activity_record(org=org, actor=actor, verb="proposed", obj=patch)
    approval_create(
        actor=actor,
        org=org,
        kind=ApprovalKind.ARCHETYPE_PATCH,
        title=f"Change the {archetype} archetype",
        reason=patch.reason,
        archetype_patch=patch,
    )
    return patch


def _decide(patch: ArchetypePatch, actor: Actor, status: str, comment: str) -> None:
    if actor.agent is not None:
        raise Forbidden("Only humans decide archetype patches.")
    updated = ArchetypePatch.objects.filter(pk=patch.pk, status=PatchStatus.PENDING).update(
        status=status, decided_by_label=str(actor)[:100], decision_comment=comment, decided_at=timezone.now()
    )
    if not updated:
        patch.refresh_from_db()
        raise Conflict(f"This patch was already {patch.status}.", code="already_decided")
    patch.refresh_from_db()
    _close_pending_approvals(patch, actor, status, comment)


def _close_pending_approvals(patch: ArchetypePatch, actor: Actor, status: str, comment: str) -> None:
    """A patch decided directly also settles its approval, which would otherwise wait forever.

    (Decided through ``approval_resolve``, that approval is no longer pending, so nothing happens here.)
    """

    approvals_settle_pending(
        actor=actor, pending=Approval.objects.filter(archetype_patch=patch), decision=status, comment=comment
    )


@transaction.atomic
def archetype_patch_approve(*, actor: Actor, patch: ArchetypePatch, comment: str = "") -> ArchetypePatch:
    """Write the proposed text to the override directory, keeping the text it replaces."""
    _decide(patch, actor, PatchStatus.APPROVED, comment)
    current = archetype_get(patch.archetype, patch.org)
    target = org_override_dir(patch.org) / f"{patch.archetype}.md"
    patch.previous_text = current.text if current else ""
    patch.previous_override = target.is_file()
    patch.save(update_fields=["previous_text", "previous_override"])
    _write_atomically(target, patch.proposed_text)
    activity_record(org=patch.org, actor=actor, verb="approved", obj=patch, details={"path": str(target)})
    return patch


@transaction.atomic
def archetype_patch_reject(*, actor: Actor, patch: ArchetypePatch, comment: str = "") -> ArchetypePatch:
    _decide(patch, actor, PatchStatus.REJECTED, comment)
    activity_record(org=patch.org, actor=actor, verb="rejected", obj=patch, details={"comment": comment})
    return patch


@transaction.atomic
def archetype_patch_rollback(*, actor: Actor, patch: ArchetypePatch) -> ArchetypePatch:
    """Undo an approved patch: restore the previous override text, or remove the override."""
    if actor.agent is not None:
        raise Forbidden("Only humans roll back archetype patches.")
    if not ArchetypePatch.objects.filter(pk=patch.pk, status=PatchStatus.APPROVED).update(
        status=PatchStatus.ROLLED_BACK
    ):
        raise Conflict("Only an approved patch can be rolled back.", code="not_approved")
    # The caller's instance may predate the approval; previous_text/previous_override live in the row.
    patch.refresh_from_db()
    target = org_override_dir(patch.org) / f"{patch.archetype}.md"
    if patch.previous_override:
        _write_atomically(target, patch.previous_text)
    elif target.is_file():
        target.unlink()
    patch.status = PatchStatus.ROLLED_BACK
    activity_record(org=patch.org, actor=actor, verb="rolled back", obj=patch)
    return patch


def archetype_patch_diff(patch: ArchetypePatch) -> str:
    """Unified diff from the text the patch replaces to the proposed text.

    Pending: against what the patch's org runs with now; decided: against the text kept at approval.
    """
    if patch.status == PatchStatus.PENDING or not patch.previous_text:
        current = archetype_get(patch.archetype, patch.org)
        before = current.text if current else ""
    else:
        before = patch.previous_text
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        patch.proposed_text.splitlines(keepends=True),
        fromfile=f"{patch.archetype}.md (current)",
        tofile=f"{patch.archetype}.md (proposed)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

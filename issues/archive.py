"""Soft deletes of issues and labels, and label edits: archive, restore, rename, recolour.

An archived issue keeps every row it had (comments, runs, relations); it is only left out of the
board, lists, search, agent inboxes and dispatch (each of those filters on ``archived_at``) until
someone restores it. An archived label stays on its issues but is no longer offered in pickers.
Only board actors (humans, board keys) and the CEO archive or restore issues, as with deletes.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.selectors import is_ceo
from issues.labels import COLOR_RE
from issues.models import Issue, Label
from issues.services import issue_event_data
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from orgs.events import EventType, event_publish
from orgs.services import activity_record, require_member


def _require_board_or_ceo(actor: Actor, org_id: int, verb: str) -> None:
    require_member(actor, org_id)
    if actor.agent is not None and not is_ceo(actor.agent):
        raise Forbidden(f"Only the board or the CEO may {verb} issues.")
    if actor.agent is None and not actor.board:
        raise Forbidden(f"Only the board or the CEO may {verb} issues.")


@transaction.atomic
def issue_archive(*, actor: Actor, issue: Issue) -> Issue:
    """Archive ``issue`` (Conflict when it already is). Its runs are not stopped; no new one is dispatched."""
    _require_board_or_ceo(actor, issue.org_id, "archive")
    now = timezone.now()
    if not Issue.objects.filter(pk=issue.pk, archived_at__isnull=True).update(archived_at=now, updated_at=now):
        raise Conflict(f"{issue.key} is already archived.", code="archived")
    issue.archived_at = now
    activity_record(org=issue.org, actor=actor, verb="archived", obj=issue, details={"title": issue.title})
    # Listeners drop the card exactly as for a delete; the issue page itself still answers.
    event_publish(org=issue.org, type=EventType.ISSUE_DELETED, data={"key": issue.key, "archived": True})
    return issue


@transaction.atomic
def issue_restore(*, actor: Actor, issue: Issue) -> Issue:
    """Bring an archived issue back where it was (same status, assignee, labels)."""
    _require_board_or_ceo(actor, issue.org_id, "restore")
    now = timezone.now()
    if not Issue.objects.filter(pk=issue.pk, archived_at__isnull=False).update(archived_at=None, updated_at=now):
        raise Conflict(f"{issue.key} is not archived.", code="not_archived")
    issue.archived_at = None
    activity_record(org=issue.org, actor=actor, verb="restored", obj=issue)
    event_publish(org=issue.org, type=EventType.ISSUE_CREATED, data=issue_event_data(issue, restored=True))
    return issue


@transaction.atomic
def label_update(*, actor: Actor, label: Label, name: str | None = None, color: str | None = None) -> Label:
    """Rename and/or recolour a label; names stay unique per org (ignoring case)."""
    require_member(actor, label.org_id)
    changes: dict[str, list[str]] = {}
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise InvalidInput("A label needs a name.", field="name")
        if len(name) > 50:
            raise InvalidInput("Label names are at most 50 characters.", field="name")
        if name != label.name:
            taken = Label.objects.filter(org_id=label.org_id, name__iexact=name).exclude(pk=label.pk).exists()
            if taken:
                raise Conflict(f"The label {name!r} already exists.", code="duplicate", field="name")
            changes["name"] = [label.name, name]
    if color is not None:
        if not COLOR_RE.match(color):
            raise InvalidInput("color must be a hex colour like #e5484d.", field="color")
        if color.lower() != label.color.lower():
            changes["color"] = [label.color, color]
    if not changes:
        return label
    fields = {key: new for key, (_, new) in changes.items()}
    try:
        with transaction.atomic():
            Label.objects.filter(pk=label.pk).update(**fields)
    except IntegrityError as exc:
        raise Conflict(f"The label {name!r} already exists.", code="duplicate", field="name") from exc
    for key, value in fields.items():
        setattr(label, key, value)
    activity_record(org=label.org, actor=actor, verb="updated", obj=label, details={"changes": changes})
    return label


@transaction.atomic
def label_archive(*, actor: Actor, label: Label) -> Label:
    """Stop offering ``label`` (it stays on its issues); Conflict when already archived."""
    require_member(actor, label.org_id)
    now = timezone.now()
    if not Label.objects.filter(pk=label.pk, archived_at__isnull=True).update(archived_at=now):
        raise Conflict(f"The label {label.name!r} is already archived.", code="archived")
    label.archived_at = now
    activity_record(org=label.org, actor=actor, verb="archived", obj=label)
    return label


@transaction.atomic
def label_restore(*, actor: Actor, label: Label) -> Label:
    """Offer an archived label again."""
    require_member(actor, label.org_id)
    if not Label.objects.filter(pk=label.pk, archived_at__isnull=False).update(archived_at=None):
        raise Conflict(f"The label {label.name!r} is not archived.", code="not_archived")
    label.archived_at = None
    activity_record(org=label.org, actor=actor, verb="restored", obj=label)
    return label

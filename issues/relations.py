"""Relations between two issues of one org: blocks / blocked by, relates to, duplicates."""

from __future__ import annotations

from django.db import transaction

from issues.models import Issue, IssueRelation, RelationKind
from issues.permissions import require_edit
from issues.services import issue_event_data
from orgs.actors import Actor
from orgs.errors import Conflict, InvalidInput, NotFound
from orgs.events import EventType, event_publish
from orgs.services import activity_record


@transaction.atomic
def relation_add(*, actor: Actor, source: Issue, target: Issue, kind: str) -> IssueRelation:
    """Relate two issues: ``blocks``, ``blocked_by`` (stored as the inverse), ``relates_to``, ``duplicates``."""
    require_edit(actor, source)
    if kind == "blocked_by":
        source, target, kind = target, source, RelationKind.BLOCKS
    if kind not in RelationKind.values:
        raise InvalidInput("kind must be blocks, blocked_by, relates_to or duplicates.", field="kind")
    if source.org_id != target.org_id:
        raise InvalidInput("Both issues must be in the same org.", field="target")
    if source.pk == target.pk:
        raise InvalidInput("An issue cannot be related to itself.", field="target")
    if (
        kind == RelationKind.BLOCKS
        and IssueRelation.objects.filter(source=target, target=source, kind=RelationKind.BLOCKS).exists()
    ):
        raise Conflict(f"{target.key} already blocks {source.key}; a mutual block would deadlock both.")
    relation, created = IssueRelation.objects.get_or_create(source=source, target=target, kind=kind)
    if created:
        activity_record(
            org=source.org, actor=actor, verb="related", obj=source, details={"kind": kind, "target": target.key}
        )
        event_publish(
            org=source.org, type=EventType.ISSUE_UPDATED, data=issue_event_data(source, changes=["relations"])
        )
    return relation


@transaction.atomic
def relation_remove(*, actor: Actor, source: Issue, target: Issue, kind: str) -> None:
    """Remove a relation (``blocked_by`` names the inverse; ``relates_to`` either way). NotFound when absent."""
    require_edit(actor, source)
    if kind == "blocked_by":
        source, target, kind = target, source, RelationKind.BLOCKS
    if kind not in RelationKind.values:
        raise InvalidInput("kind must be blocks, blocked_by, relates_to or duplicates.", field="kind")
    deleted, _ = IssueRelation.objects.filter(source=source, target=target, kind=kind).delete()
    if not deleted and kind == RelationKind.RELATES_TO:
        deleted, _ = IssueRelation.objects.filter(source=target, target=source, kind=kind).delete()
    if not deleted:
        raise NotFound(f"{source.key} has no {kind.replace('_', ' ')} relation with {target.key}.")
    activity_record(
        org=source.org, actor=actor, verb="unrelated", obj=source, details={"kind": kind, "target": target.key}
    )
    event_publish(org=source.org, type=EventType.ISSUE_UPDATED, data=issue_event_data(source, changes=["relations"]))

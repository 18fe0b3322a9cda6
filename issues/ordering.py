"""Manual ordering of the cards in a board column (drag within the column), persisted per issue."""

from __future__ import annotations

from django.db import transaction

from issues.models import Issue, Status
from issues.services import issue_event_data
from orgs.actors import Actor
from orgs.errors import InvalidInput
from orgs.events import EventType, event_publish
from orgs.models import Org
from orgs.services import activity_record, require_member

MAX_REORDER = 500


@transaction.atomic
def issues_reorder(*, actor: Actor, org: Org, status: str, keys: list[str], moved: str = "") -> int:
    """Put the ``status`` column's cards in the order of ``keys`` (top first); returns how many moved.

    Cards not named keep no manual position and follow, by priority. A key that is not (any
    longer) in that column of ``org`` is refused, so a stale board cannot reorder another column.
    ``moved`` names the dragged card, for the activity row and the live event.
    """
    require_member(actor, org.pk)
    if status not in Status.values:
        raise InvalidInput(f"Unknown status {status!r}.", field="status")
    if not keys or len(keys) > MAX_REORDER or len(set(keys)) != len(keys):
        raise InvalidInput(f"Give 1 to {MAX_REORDER} distinct issue keys, top first.", field="keys")
    ids = dict(Issue.objects.filter(org=org, status=status, key__in=keys).values_list("key", "id"))
    stray = [k for k in keys if k not in ids]
    if stray:
        raise InvalidInput(f"{', '.join(stray[:5])} not in the {status} column.", field="keys")
    changed = 0
    for position, key in enumerate(keys):
        # Conditional on the status: a card moved to another column meanwhile keeps its place there.
        changed += (
            Issue.objects.filter(pk=ids[key], status=status)
            .exclude(board_position=position)
            .update(board_position=position)
        )
    issue = Issue.objects.get(pk=ids[moved]) if moved in ids else None
    if changed and issue is not None:
        activity_record(org=org, actor=actor, verb="reordered", obj=issue, details={"position": keys.index(moved)})
        event_publish(org=org, type=EventType.ISSUE_UPDATED, data=issue_event_data(issue, changes=["board_position"]))
    return changed

"""A work block whose issues are all finished moves to ``ready`` by itself.

``issues`` and ``blocks`` may not import each other, so the check lives here, where the scheduler
reads the event feed: an issue update into a terminal status looks at the issue's active work
block, and when none of the block's issues is open any more the block moves ``active → ready``
through the blocks service (its ``work_block_updated`` event carries ``from_status``, which is
what the notification "work block ready to ship" listens for).
"""

from __future__ import annotations

import logging

from blocks.models import WorkBlock, WorkBlockStatus
from blocks.services import work_block_transition
from issues.models import TERMINAL_STATUSES, Issue
from orgs.actors import Actor
from orgs.errors import Conflict
from orgs.events import EventType
from orgs.models import Event

log = logging.getLogger(__name__)
AUTO = Actor.system("auto-ready")


def block_ready_for_event(event: Event) -> WorkBlock | None:
    """Move the issue's active block to ready when this update finished its last open issue; else None."""
    data = event.data or {}
    if event.type != EventType.ISSUE_UPDATED or data.get("status") not in TERMINAL_STATUSES:
        return None
    issue_id = data.get("id")
    if not isinstance(issue_id, int):
        return None
    block_id = Issue.objects.filter(pk=issue_id).values_list("work_block_id", flat=True).first()
    block = WorkBlock.objects.filter(pk=block_id, status=WorkBlockStatus.ACTIVE).first() if block_id else None
    if block is None:
        return None
    issues = Issue.objects.filter(work_block=block, archived_at__isnull=True)  # archived work does not hold a block
    if not issues.exists() or issues.exclude(status__in=TERMINAL_STATUSES).exists():
        return None
    try:
        return work_block_transition(actor=AUTO, block=block, to=WorkBlockStatus.READY)
    except Conflict:  # moved meanwhile (a human, or another scheduler): nothing to do
        return None

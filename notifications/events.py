"""Turn the durable ``orgs.Event`` feed into notifications (no signals: we read the feed).

``process_events`` reads events after a cursor, maps the interesting ones to
``notify()`` calls, and advances the cursor. Every queued delivery carries a
dedupe key derived from the event id, so replaying events after a crash never
sends anything twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents.models import Agent
from approvals.models import Approval
from notifications.models import APPROVAL_RESOLVED_KIND, EventCursor, EventKind, TelegramMessage
from notifications.services import enqueue, notify
from orgs.events import EventType
from orgs.models import Event

CURSOR = "notifications"
# A worker starting for the first time catches up on this much history, not on everything.
FIRST_START_LOOKBACK = timedelta(hours=1)

RUN_FAILED_STATUSES = {"failed", "timed_out"}


def _approval_payload(event: Event) -> dict[str, Any] | None:
    data = event.data
    if data.get("reviewer_id"):
        return None  # addressed to an agent reviewer, not to the humans
    approval = Approval.objects.filter(pk=data.get("id"), org_id=event.org_id).first()
    if approval is None:
        return None
    return {
        "approval_id": approval.pk,
        "title": approval.title,
        "kind": approval.kind,
        "kind_label": approval.get_kind_display(),
        "reason": approval.reason[:1500],
        "issue_key": data.get("issue_key"),
        "requested_by": approval.requested_by_label,
    }


def map_event(event: Event) -> tuple[str, dict[str, Any]] | None:
    """The notification kind and payload an event means, or None."""
    data: dict[str, Any] = event.data or {}
    status = str(data.get("status") or "")
    if event.type == EventType.APPROVAL_CREATED:
        payload = _approval_payload(event)
        return (EventKind.APPROVAL_REQUESTED, payload) if payload is not None else None
    if event.type == EventType.ISSUE_RETRY_CAP:
        return EventKind.ISSUE_BLOCKED, dict(data)
    if event.type == EventType.AGENT_ERRORED:
        return EventKind.AGENT_ERRORED, dict(data)
    if event.type == EventType.RUN_FINISHED:
        payload = dict(data)
        if data.get("agent_id") and not data.get("agent"):
            payload["agent"] = Agent.objects.filter(pk=data["agent_id"]).values_list("slug", flat=True).first() or ""
        # A run refused or stopped for lack of budget is how "budget exceeded" reaches channels.
        if status == "budget_exceeded":
            return EventKind.BUDGET_EXCEEDED, payload
        if status in RUN_FAILED_STATUSES:
            return EventKind.RUN_FAILED, payload
        return None
    if event.type == EventType.WORK_BLOCK_UPDATED:
        # Only the transition into ready (a transition carries from_status), not later edits of a ready block.
        if status == "ready" and "from_status" in data and data["from_status"] != "ready":
            return EventKind.WORK_BLOCK_READY, dict(data)
        return None
    return None


def _queue_telegram_edits(event: Event) -> None:
    """A decision made anywhere (browser, API, another chat) edits the Telegram messages showing it."""
    status = (event.data or {}).get("status")
    messages = TelegramMessage.objects.filter(approval_id=event.data.get("id"), approval__org_id=event.org_id).exclude(
        shown_status=status
    )
    for msg in messages.select_related("channel"):
        enqueue(
            channel=msg.channel,
            kind=APPROVAL_RESOLVED_KIND,
            payload={"approval_id": msg.approval_id, "message_id": msg.pk},
            dedupe_key=f"event:{event.pk}:msg:{msg.pk}",
        )


def handle_event(event: Event) -> int:
    """Queue what one event calls for; returns the number of deliveries queued."""
    if event.type == EventType.APPROVAL_RESOLVED:
        _queue_telegram_edits(event)
        return 0
    mapped = map_event(event)
    if mapped is None:
        return 0
    kind, payload = mapped
    return len(notify(org=event.org, kind=kind, payload=payload, dedupe_key=f"event:{event.pk}"))


def _start_position() -> int:
    cutoff = timezone.now() - FIRST_START_LOOKBACK
    last_old = Event.objects.filter(created_at__lt=cutoff).order_by("-id").values_list("id", flat=True).first()
    return last_old or 0


def process_events(since_id: int | None = None, *, limit: int = 500) -> int:
    """Map events after ``since_id`` (default: the stored cursor) to notifications; returns events read.

    The cursor row remembers the position; each event is handled in its own
    transaction together with the cursor move, so a crash loses nothing.
    """
    cursor, created = EventCursor.objects.get_or_create(name=CURSOR, defaults={"last_event_id": 0})
    if created and since_id is None:
        cursor.last_event_id = _start_position()
        cursor.save(update_fields=["last_event_id", "updated_at"])
    position = cursor.last_event_id if since_id is None else since_id
    events = list(Event.objects.filter(id__gt=position).select_related("org").order_by("id")[:limit])
    for event in events:
        with transaction.atomic():
            handle_event(event)
            EventCursor.objects.filter(name=CURSOR, last_event_id__lt=event.pk).update(last_event_id=event.pk)
    return len(events)

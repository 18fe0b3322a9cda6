"""Live-event plumbing: durable rows now, wake-ups after commit.

``event_publish`` writes an ``Event`` row inside the caller's transaction and
registers an on-commit hook that tells in-process listeners (the SSE hub, the
scheduler's wake loop) a new id exists. Other processes find the same rows by
polling from their last seen id, so nothing depends on the hook arriving.

``EventType`` is the one list of event types: publishers pass a member, consumers
compare against members, and the browser gets the values through ``json_script``
(``tests/orgs/test_event_types.py`` keeps publishers and listeners in step).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import models, transaction

from orgs.inserts import insert
from orgs.models import Event, Org

log = logging.getLogger(__name__)


class EventType(models.TextChoices):
    """Every type of live event, named after what happened.

    The values are stored in ``Event.type`` and sent as SSE event names (``mesa:<value>`` DOM
    events in the browser): never change one, or older rows of the durable feed stop matching.
    """

    ACTIVITY = "activity"
    AGENT_CREATED = "agent_created"
    AGENT_UPDATED = "agent_updated"
    AGENT_HEARTBEAT = "agent_heartbeat"
    # A run could not even start because of the agent's setup (runner, workspace, CLI), not its work.
    AGENT_ERRORED = "agent_errored"
    APEX_BLOCK_UPDATED = "apex_block_updated"
    APPROVAL_CREATED = "approval_created"
    APPROVAL_RESOLVED = "approval_resolved"
    BACKLOG_UPDATED = "backlog_updated"
    # A message was posted in a channel or a direct thread (chat app); its @mentions wake agents.
    CHANNEL_MESSAGE = "channel_message"
    COMMENT_CREATED = "comment_created"
    ISSUE_CREATED = "issue_created"
    ISSUE_UPDATED = "issue_updated"
    ISSUE_DELETED = "issue_deleted"
    CHAT_MESSAGE = "chat_message"
    # A step of the inbound pipeline (hook delivery, rule, issue or run created, policy, write-back): the Logs page.
    HOOK_LOG = "hook_log"
    # MESA_RETRY_CAP failed runs in a row: the issue is blocked (or, where the lifecycle forbids the move,
    # no longer retried). The notification kind is ``issue_blocked``; the event keeps its historical name.
    ISSUE_RETRY_CAP = "issue_retry_cap"
    # An issue's branch shipped, or tried to: merged, pull request opened / read back, conflict, discarded.
    ISSUE_SHIPPED = "issue_shipped"
    LABEL_CREATED = "label_created"
    # A notification delivery was queued, sent or failed (the delivery log in Settings follows it).
    NOTIFICATION_DELIVERY = "notification_delivery"
    RUN_QUEUED = "run_queued"
    RUN_STARTED = "run_started"
    RUN_EVENT = "run_event"
    RUN_FINISHED = "run_finished"
    WIKI_UPDATED = "wiki_updated"
    WORK_BLOCK_UPDATED = "work_block_updated"


Listener = Callable[[Event], None]
_listeners: list[Listener] = []


def add_listener(fn: Listener) -> None:
    """Register a callable run after commit for every event published in this process."""
    if fn not in _listeners:
        _listeners.append(fn)


def remove_listener(fn: Listener) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


def _notify(event: Event) -> None:
    for fn in list(_listeners):
        try:
            fn(event)
        except Exception:  # a broken listener must never break a write
            log.exception("event listener %r failed for event %s", fn, event.pk)


def event_publish(*, org: Org, type: EventType, data: dict[str, Any]) -> Event:
    """Write one event of ``type`` (a member; a string that is no member raises ValueError) for ``org``."""
    # Stored as the plain value: listeners get the same str the feed's readers get from the database.
    event = insert(Event(org=org, type=EventType(type).value, data=data))
    transaction.on_commit(lambda: _notify(event))
    return event

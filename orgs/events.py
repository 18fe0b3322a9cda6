"""Live-event plumbing: durable rows now, wake-ups after commit.

``event_publish`` writes an ``Event`` row inside the caller's transaction and
registers an on-commit hook that tells in-process listeners (the SSE hub, the
scheduler's wake loop) a new id exists. Other processes find the same rows by
polling from their last seen id, so nothing depends on the hook arriving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

from orgs.models import Event, Org

log = logging.getLogger(__name__)

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


def event_publish(*, org: Org, type: str, data: dict[str, Any]) -> Event:
    event = Event.objects.create(org=org, type=type, data=data)
    transaction.on_commit(lambda: _notify(event))
    return event

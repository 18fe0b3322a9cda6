"""The delivery worker: read the event feed, send what is due. Run by the scheduler loop or on its own."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from django.db import connection
from django.utils import timezone

from notifications.events import process_events
from notifications.selectors import next_attempt_at
from notifications.services import deliver_due
from orgs.commits import CommitWatch, release_pooled_connection

log = logging.getLogger(__name__)


def run_once(*, now: datetime | None = None) -> tuple[int, int]:
    """One cycle: map new events to deliveries, then attempt the due ones. Returns (events, attempts)."""
    events = process_events()
    attempts = deliver_due(now=now)
    return events, attempts


# Idle and with nothing committed since the last cycle, there is nothing new to map: the next cycle is then
# the next delivery's retry time, or this long at most.
IDLE_CYCLE_S = 60.0


def _rest_s(interval_s: float) -> float:
    """Seconds until a cycle is needed even if nothing commits: the earliest retry, within bounds."""
    due = next_attempt_at()
    if due is None:
        return IDLE_CYCLE_S
    return min(IDLE_CYCLE_S, max(interval_s, (due - timezone.now()).total_seconds()))


def run_forever(stop: threading.Event, *, interval_s: float = 2.0) -> None:
    """Every ``interval_s``: a cycle when something committed (``orgs.commits``) or a retry is due.

    On SQLite the thread keeps its connection between cycles (the commit counter is per connection) and
    drops it only after an error, so the next cycle starts on a fresh one; a pooled connection (PostgreSQL)
    goes back to the pool after every cycle.
    """
    commits = CommitWatch()
    next_full = 0.0
    try:
        while not stop.is_set():
            release_pooled_connection()
            events = attempts = 0
            try:
                now = time.monotonic()
                if commits.changed() or now >= next_full:
                    events, attempts = run_once()
                    # Work done: look again at once (more may wait than one cycle takes); else rest.
                    next_full = 0.0 if events or attempts else now + _rest_s(interval_s)
            except Exception:  # keep the worker alive; the next cycle retries
                log.exception("notification worker cycle failed")
                next_full = 0.0
                connection.close()
            if not events and not attempts:
                stop.wait(interval_s)
    finally:
        connection.close()


class WorkerThread(threading.Thread):
    def __init__(self, interval_s: float = 2.0) -> None:
        super().__init__(name="mesa-notifications", daemon=True)
        self.stop_event = threading.Event()
        self.interval_s = interval_s

    def run(self) -> None:
        run_forever(self.stop_event, interval_s=self.interval_s)

    def stop(self, timeout: float | None = None) -> None:
        self.stop_event.set()
        self.join(timeout)


def start_in_thread(interval_s: float = 2.0) -> WorkerThread:
    """Run the delivery worker in a daemon thread; ``.stop()`` ends it."""
    thread = WorkerThread(interval_s)
    thread.start()
    return thread

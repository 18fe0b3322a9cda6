"""The delivery worker: read the event feed, send what is due. Run by the scheduler loop or on its own."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from django.db import close_old_connections, connection

from notifications.events import process_events
from notifications.services import deliver_due

log = logging.getLogger(__name__)


def run_once(*, now: datetime | None = None) -> tuple[int, int]:
    """One cycle: map new events to deliveries, then attempt the due ones. Returns (events, attempts)."""
    events = process_events()
    attempts = deliver_due(now=now)
    return events, attempts


def run_forever(stop: threading.Event, *, interval_s: float = 2.0) -> None:
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                events, attempts = run_once()
            except Exception:  # keep the worker alive; the next cycle retries
                log.exception("notification worker cycle failed")
                events = attempts = 0
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

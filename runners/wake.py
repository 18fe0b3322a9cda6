"""A loopback nudge from any Mesa process to the scheduler: "an event that may wake an agent just committed".

This is the ``local`` variant of ``runners.wakeups`` (SQLite's default; PostgreSQL and Redis
installs use LISTEN/NOTIFY or pub/sub instead, so every scheduler on every machine hears it).
The scheduler binds a Unix datagram socket next to the database (``<sqlite file>.wake``;
``var/scheduler.wake`` for other databases, or ``MESA_SCHEDULER_SOCKET``) and sleeps on it.
Every process with the ``runners`` app loaded sends one empty datagram after the commit of
a wake-type event (``orgs.events`` listener registered in ``RunnersConfig.ready``). It is
only a hint: the durable event feed stays the truth and the scheduler still polls cheaply,
so a lost datagram (no scheduler, full buffer) costs latency, never work.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from pathlib import Path
from typing import Any

from django.conf import settings

from orgs.events import EventType
from runners import wakeups

log = logging.getLogger(__name__)

# Events that can wake an agent (read by runners.dispatch), and those that wake the scheduler loop.
DISPATCH_TYPES = (
    EventType.ISSUE_CREATED,
    EventType.ISSUE_UPDATED,
    EventType.COMMENT_CREATED,
    EventType.APPROVAL_RESOLVED,
    EventType.BACKLOG_UPDATED,
    EventType.CHANNEL_MESSAGE,
    EventType.CHAT_MESSAGE,
)
WAKE_TYPES = frozenset({*DISPATCH_TYPES, EventType.RUN_QUEUED})
_sender: socket.socket | None = None


def socket_path() -> str:
    configured = getattr(settings, "MESA_SCHEDULER_SOCKET", "")
    if configured:
        return str(configured)
    db = settings.DATABASES["default"]
    name = str(db.get("NAME") or "")
    if db["ENGINE"].endswith("sqlite3") and name and name != ":memory:" and not name.startswith("file:"):
        return name + ".wake"
    return str(Path(settings.BASE_DIR) / "var" / "scheduler.wake")


def send_datagram() -> None:
    """Nudge the scheduler on this machine (non-blocking, errors ignored): the ``local`` wake-up variant."""
    global _sender
    try:
        if _sender is None:
            _sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            _sender.setblocking(False)
        _sender.sendto(b"!", socket_path())
    except OSError:
        pass  # no scheduler listening, or its buffer is full: it polls anyway


def on_event(event: Any) -> None:
    if event.type in WAKE_TYPES:
        wakeups.notify()


class WakeSocket:
    """The scheduler's end. ``fileno()`` can be waited on; ``drain()`` empties it."""

    def __init__(self) -> None:
        self.path = socket_path()
        self.sock: socket.socket | None = None
        try:
            self.sock = self._bind()
        except OSError as exc:
            log.warning("wake socket %s unavailable (%s); polling only", self.path, exc)
            self.sock = None

    def _bind(self) -> socket.socket | None:
        if os.path.exists(self.path):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                probe.sendto(b"", self.path)
            except ConnectionRefusedError:
                os.unlink(self.path)  # left by a dead scheduler
            except OSError:
                pass
            else:
                log.info("another scheduler listens on %s; polling only", self.path)
                return None
            finally:
                probe.close()
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(self.path)
        sock.setblocking(False)
        return sock

    def drain(self) -> None:
        if self.sock is None:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            while self.sock.recv(64) is not None:
                pass

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            with contextlib.suppress(OSError):
                os.unlink(self.path)

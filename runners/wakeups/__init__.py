"""Wake-ups between processes: "an event that may wake an agent just committed", from any Mesa process to
every scheduler.

One small interface, one module per variant, chosen by name from :data:`VARIANTS`:

- ``local``: a Unix datagram socket next to the SQLite file (``runners.wake``); one scheduler per machine.
- ``postgres``: ``LISTEN/NOTIFY`` on the database itself; every scheduler on any machine hears it.
- ``redis``: pub/sub on ``MESA_REDIS_URL`` (or ``REDIS_URL``); every scheduler hears it.

``MESA_WAKEUPS`` names one; empty picks ``redis`` when a Redis URL is set, ``postgres`` on PostgreSQL,
else ``local``. A variant module has ``notify()`` (non-blocking in spirit, errors swallowed: a lost
wake-up costs latency, never work, because the scheduler still polls the durable event feed) and
``Listener()`` (the scheduler's end: ``fileno()`` to wait on with ``select``, ``-1`` when unavailable;
``drain()``; ``close()``).
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Protocol

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)

VARIANTS = {
    "local": "runners.wakeups.local",
    "postgres": "runners.wakeups.postgres",
    "redis": "runners.wakeups.redis",
}


class Listener(Protocol):
    def fileno(self) -> int: ...

    def drain(self) -> None: ...

    def close(self) -> None: ...


def variant_name() -> str:
    forced = str(getattr(settings, "MESA_WAKEUPS", "") or "")
    if forced:
        if forced not in VARIANTS:
            raise ValueError(f"MESA_WAKEUPS={forced!r}: expected one of {', '.join(VARIANTS)}")
        return forced
    if getattr(settings, "MESA_REDIS_URL", ""):
        return "redis"
    if connection.vendor == "postgresql":
        return "postgres"
    return "local"


def variant() -> ModuleType:
    # Imported by name: a SQLite install never loads the PostgreSQL or Redis code.
    return importlib.import_module(VARIANTS[variant_name()])


def notify() -> None:
    """Tell every scheduler to look at the event feed now (errors are logged at debug level and dropped)."""
    try:
        variant().notify()
    except Exception:  # only a hint: the scheduler polls anyway
        log.debug("wake-up not sent", exc_info=True)


def listen() -> Listener:
    """The scheduler's end of the configured variant."""
    listener: Listener = variant().Listener()
    return listener

"""Wake-ups through PostgreSQL ``LISTEN/NOTIFY``: no extra service, and every scheduler on every machine hears it.

A writer sends ``pg_notify`` on its own Django connection right after its commit (one round trip).
Each scheduler keeps one extra autocommit connection that ``LISTEN``\\s; its socket is what the
scheduler waits on. If that connection breaks, the listener reconnects at most every few seconds and
the scheduler polls meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)

CHANNEL = "mesa_wake"
RETRY_S = 5.0


def notify() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])


def _conninfo() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    params: dict[str, Any] = {
        "dbname": db.get("NAME") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": str(db["PORT"]) if db.get("PORT") else None,
        "connect_timeout": 5,
        "application_name": "mesa-scheduler-wakeups",
    }
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        params["sslmode"] = sslmode
    return {k: v for k, v in params.items() if v is not None}


class Listener:
    def __init__(self) -> None:
        self._conn: psycopg.Connection[Any] | None = None
        self._next_try = 0.0
        self._connect()

    def _connect(self) -> None:
        self._next_try = time.monotonic() + RETRY_S
        try:
            conn = psycopg.connect(autocommit=True, **_conninfo())
            conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as exc:
            log.warning("LISTEN %s failed (%s); polling only until it reconnects", CHANNEL, exc)
            return
        self._conn = conn

    def fileno(self) -> int:
        if self._conn is None or self._conn.closed:
            if time.monotonic() >= self._next_try:
                self._connect()
            if self._conn is None or self._conn.closed:
                return -1
        return self._conn.fileno()

    def drain(self) -> None:
        if self._conn is None:
            return
        pgconn = self._conn.pgconn
        try:
            pgconn.consume_input()
            while pgconn.notifies() is not None:
                pass
        except psycopg.Error:  # the server went away: reconnect later, poll meanwhile
            log.warning("the LISTEN connection broke; polling until it reconnects")
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

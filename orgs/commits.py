"""Did anything commit since the last look? A cheap question for the loops that otherwise poll tables.

On SQLite, ``PRAGMA data_version`` reads a counter in the shared WAL index that changes whenever another
connection (of this process or any other) commits; it touches no table. Its value is per connection, so a
new connection (after a close) counts as a change. Elsewhere there is no such counter and every look
answers True: the caller keeps its usual polling.
"""

from __future__ import annotations

from typing import Any

from django.db import close_old_connections, connection


def release_pooled_connection() -> None:
    """Between a long-lived thread's cycles: give a pooled connection (PostgreSQL) back to the pool.

    A thread that keeps one idle between cycles holds it from a pool sized for what runs at once
    (``MESA_DB_POOL_SIZE``). On SQLite the connection stays: the commit counter above is per connection,
    and a new one would count as a change.
    """
    if connection.vendor != "sqlite":
        close_old_connections()


class CommitWatch:
    """One per thread (each thread has its own connection). Not for use across threads."""

    def __init__(self) -> None:
        self._raw: Any = None
        self._version: int | None = None

    def changed(self) -> bool:
        """True when another connection may have committed since the previous call (always on the first)."""
        if connection.vendor != "sqlite":
            return True
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA data_version")
            row = cursor.fetchone()
        raw, version = connection.connection, int(row[0]) if row else 0
        same = raw is self._raw and version == self._version
        self._raw, self._version = raw, version
        return not same

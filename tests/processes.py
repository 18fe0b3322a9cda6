"""Waiting for a process to be gone, the way the kernel sees it."""

from __future__ import annotations

import time


def process_state(pid: int) -> str | None:
    """The state letter of ``pid`` in /proc (``R``, ``S``, ``Z``...), or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            # The command name in parentheses may hold spaces or ')': the state follows the last ')'.
            return fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def process_gone(pid: int, timeout: float = 30.0) -> bool:
    """True once ``pid`` has exited: no process, or a zombie (dead, waiting for its parent to reap it;
    ``os.kill(pid, 0)`` still succeeds on those). Polls up to a generous ``timeout``: a loaded machine
    may take a while, and a process that is really gone returns at once."""
    deadline = time.monotonic() + timeout
    while True:
        if process_state(pid) in (None, "Z"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)

"""Which process is a run's CLI: a pid alone is not an identity (the kernel reuses pids).

A run records its CLI's pid *and* the process's start time (``/proc/<pid>/stat`` field 22,
clock ticks since boot, fixed at fork). Start-up recovery kills an orphaned process group
only when the process at that pid still has both: the same start time and ``MESA_RUN_ID`` of
the run in its environment. A recycled pid (another program, or another Mesa's run with the
same id) fails one of the two and is left alone.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path


def process_start_ticks(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and ")": the fields after the last ")" are unambiguous.
    fields = stat.rsplit(")", 1)[1].split()
    try:
        return int(fields[19])  # field 22 overall: the state is field 3, fields[0] here
    except (IndexError, ValueError):
        return None


def process_is_run(pid: int, run_id: int, start_ticks: int | None) -> bool:
    """True when ``pid`` is still the CLI of run ``run_id``: safe to kill its process group.

    ``start_ticks`` is what the run recorded when its process started; None (a run recorded
    before Mesa stored it) falls back to the environment check alone.
    """
    if start_ticks is not None and process_start_ticks(pid) != start_ticks:
        return False
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"MESA_RUN_ID={run_id}".encode() in environ.split(b"\0")


def _boot_time() -> datetime | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return datetime.fromtimestamp(int(line.split()[1]), tz=UTC)
    except (OSError, ValueError):
        return None
    return None


def process_started_at(pid: int) -> datetime | None:
    """When process ``pid`` started (to the clock tick, ~10 ms), or None when unknown."""
    ticks, boot = process_start_ticks(pid), _boot_time()
    if ticks is None or boot is None:
        return None
    return boot + timedelta(seconds=ticks / os.sysconf("SC_CLK_TCK"))


def started_after(pid: int, moment: datetime | None) -> bool:
    """True when process ``pid`` started after ``moment``: it cannot be what was running then (a reused pid)."""
    started = process_started_at(pid)
    # One second of slack: btime is rounded to the second.
    return moment is not None and started is not None and started > moment + timedelta(seconds=1)

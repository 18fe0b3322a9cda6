"""Stopping the servers and schedulers a benchmark started."""

from __future__ import annotations

import subprocess
from typing import Any


def stop(*procs: subprocess.Popen[Any], timeout: float = 20) -> None:
    """SIGTERM each process, then wait for each; one still running after ``timeout`` seconds is killed."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

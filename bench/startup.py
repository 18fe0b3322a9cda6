"""Cold start, idle memory and idle CPU of `make run` (web server + scheduler).

Measures on a temporary, already migrated and bootstrapped SQLite database:
the time from starting ``python -m mesa.serve`` to the first HTTP 200 on ``/``,
then the resident memory (RSS, and PSS, which counts shared pages once) and CPU
use of the server and its children while nothing happens: once with one process
(``MESA_WEB_WORKERS=1``) and once with one web worker per core.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))  # run standalone too

from bench.procs import stop  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(db: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "PORT": str(port),
        "SECRET_KEY": "bench-not-secret",
        "MESA_LOG_LEVEL": "WARNING",
        # `/` without the one-time login link answers 401: the figures are the server's, not the login's.
        "MESA_LOCAL_LOGIN": "0",
    }


def _children(pid: int) -> list[int]:
    # Each thread lists the children it started: the web workers are started by threads.
    kids = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids += [int(p) for p in children.read_text().split()]
        except OSError:
            continue
    return kids + [g for k in kids for g in _children(k)]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages (the Python runtime, Django's code) counted once overall."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _idle(pid: int, workers: int, idle_s: float) -> dict[str, Any]:
    """CPU and memory of the server and its children while nothing happens."""
    pids = [pid, *_children(pid)]
    before = {p: _cpu_ticks(p) for p in pids}
    time.sleep(idle_s)
    pids = [p for p in pids if Path(f"/proc/{p}").exists()]
    ticks = sum(_cpu_ticks(p) - before.get(p, 0) for p in pids)
    kids = [p for p in pids if p != pid]
    return {
        "web_workers": workers,
        "processes": len(pids),
        "idle_cpu_percent": round(ticks / CLK_TCK / idle_s * 100, 2),
        "idle_rss_mb": round(sum(_rss_kb(p) for p in pids) / 1024, 1),
        "idle_pss_mb": round(sum(_pss_kb(p) for p in pids) / 1024, 1),
        "rss_mb_per_child": [round(_rss_kb(p) / 1024, 1) for p in kids],
    }


def _first_200(url: str, deadline: float) -> float:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return time.monotonic()
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"{url} never answered 200")


def main(rounds: int = 5, idle_s: float = 30.0) -> dict[str, Any]:
    # 30 s of idle: CPU ticks are 10 ms, so 5 s could only tell 0.2 % steps apart.
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        port = _free_port()
        env = _env(db, port)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE, env=env, check=True)
        subprocess.run(
            [sys.executable, "manage.py", "bootstrap", "--template", "startup", "--runner", "noop"],
            cwd=BASE,
            env=env,
            check=True,
            capture_output=True,
        )
        starts: list[float] = []
        result: dict[str, Any] = {}
        # Cold start and idle figures for one process (web + scheduler), then for the worker pool
        # `make run` uses by default (one daphne worker per core beside the scheduler's process).
        cores = os.cpu_count() or 1
        modes = [("single", 1)] + ([("workers", cores)] if cores > 1 else [])
        for mode, workers in modes:
            mode_env = {**env, "MESA_WEB_WORKERS": str(workers)}
            for i in range(rounds if mode == "single" else 1):
                t0 = time.monotonic()
                proc = subprocess.Popen(
                    [sys.executable, "-m", "mesa.serve"],
                    cwd=BASE,
                    env=mode_env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                try:
                    took = _first_200(f"http://127.0.0.1:{port}/", t0 + 60) - t0
                    if mode == "single":
                        starts.append(took)
                    if i == rounds - 1 or mode != "single":
                        time.sleep(2.0)  # let the scheduler and every worker finish starting
                        result[mode] = _idle(proc.pid, workers, idle_s)
                finally:
                    stop(proc)
        result["cold_start_s_p50"] = round(statistics.median(starts), 3)
        result["cold_start_s_max"] = round(max(starts), 3)
        return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))

"""Cold start, idle memory and idle CPU of `make run` (web server + scheduler).

Measures on a temporary, already migrated and bootstrapped SQLite database:
the time from starting ``python -m mesa.serve`` to the first HTTP 200 on ``/``,
then the resident memory and CPU use of the server and its scheduler child
while nothing happens.
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
    }


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    kids = [int(p) for p in text.split()]
    return kids + [g for k in kids for g in _children(k)]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _first_200(url: str, deadline: float) -> float:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return time.monotonic()
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"{url} never answered 200")


def main(rounds: int = 5, idle_s: float = 5.0) -> dict[str, Any]:
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
        for i in range(rounds):
            t0 = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, "-m", "mesa.serve"],
                cwd=BASE,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                starts.append(_first_200(f"http://127.0.0.1:{port}/", t0 + 30) - t0)
                if i == rounds - 1:
                    time.sleep(1.0)  # let the scheduler finish starting
                    pids = [proc.pid, *_children(proc.pid)]
                    before = {p: _cpu_ticks(p) for p in pids}
                    time.sleep(idle_s)
                    pids = [p for p in pids if Path(f"/proc/{p}").exists()]
                    ticks = sum(_cpu_ticks(p) - before.get(p, 0) for p in pids)
                    result["idle_cpu_percent"] = round(ticks / CLK_TCK / idle_s * 100, 2)
                    result["idle_rss_mb"] = round(sum(_rss_kb(p) for p in pids) / 1024, 1)
                    result["processes"] = len(pids)
            finally:
                proc.terminate()
                proc.wait(timeout=20)
        result["cold_start_s_p50"] = round(statistics.median(starts), 3)
        result["cold_start_s_max"] = round(max(starts), 3)
        return {"startup": result}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))

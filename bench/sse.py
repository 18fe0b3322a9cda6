"""SSE latency and memory: an issue update made by another process → the event at N connected clients.

A real daphne serves a fresh SQLite database on loopback (then, ``served_as_make_run``, what ``make run``
serves: one worker per core). N clients hold ``/events`` streams open (raw asyncio connections in one
process, like N browser tabs); a separate
Django process then updates one issue ``UPDATES`` times, printing the wall-clock
time right after each commit. Each client stamps the matching ``issue_updated``
frame on arrival. Latency = arrival - commit, over all clients and updates.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.procs import stop  # noqa: E402
from bench.startup import _children  # noqa: E402
from tests.browser.server import mesa_env, prepare_db, reserved_port, start_daphne  # noqa: E402

CLIENT_COUNTS = (1, 50, 200, 1000)  # the target is set at 1,000 open tabs
UPDATES = 20
GAP_S = 0.15

WRITER = """
import sys, time, json
import django
django.setup()
from orgs.actors import Actor
from orgs.models import Org
from issues.models import Issue
from issues.services import issue_create, issue_update
org = Org.objects.get(slug="mesa")
issue = Issue.objects.filter(org=org, title__startswith="bench-sse").first() or issue_create(
    actor=Actor.system("bench"), org=org, title="bench-sse")
print("ready", flush=True)
tag = sys.argv[1]
for i in range(int(sys.argv[2])):
    time.sleep(float(sys.argv[3]))
    issue_update(actor=Actor.system("bench"), issue=issue, title=f"bench-sse {tag} {i}")
    print(json.dumps({"i": i, "t": time.time()}), flush=True)
"""


class _Stream(asyncio.Protocol):
    """One open tab: ``GET /events`` on a raw connection, stamping each update's arrival as its bytes come in.

    The stamp is taken first thing in ``data_received`` and the frame is only searched for the update's
    number: one client process stands in for 1,000 browser tabs, and the time it spends per tab must not
    be counted as the server's (an earlier client parsed every frame before the next tab's turn, adding up
    to ~40 µs per tab to the last tabs' latency).
    """

    def __init__(self, tag: str, arrivals: dict[int, float], ready: asyncio.Event, done: asyncio.Future[None]) -> None:
        self.prefix = f"bench-sse {tag} ".encode()
        self.arrivals = arrivals
        self.ready = ready
        self.done = done
        self.tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(b"GET /events?org=mesa HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if not self.ready.is_set() and b": hello" in data:
            self.ready.set()
        # A frame split between two reads is found in the next one (its stamp is when it was whole).
        buf = self.tail + data
        start = 0
        while (i := buf.find(self.prefix, start)) >= 0:
            j = k = i + len(self.prefix)
            while k < len(buf) and 48 <= buf[k] <= 57:
                k += 1
            if k == len(buf):  # the number may go on in the next read
                break
            if k > j:
                self.arrivals.setdefault(int(buf[j:k]), now)
            start = k
        self.tail = buf[-64:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _client(port: int, tag: str, arrivals: dict[int, float], ready: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    transport, _ = await loop.create_connection(lambda: _Stream(tag, arrivals, ready, done), "127.0.0.1", port)
    try:
        await done
    finally:
        transport.close()


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _round(port: int, pid: int, db: Path, clients: int, tag: str) -> dict[str, Any]:
    arrivals: list[dict[int, float]] = [{} for _ in range(clients)]
    readies = [asyncio.Event() for _ in range(clients)]
    tasks = [asyncio.create_task(_client(port, tag, arrivals[n], readies[n])) for n in range(clients)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
    cpu_before = _cpu_s(pid)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        tag,
        str(UPDATES),
        str(GAP_S),
        cwd=REPO,
        env=mesa_env(db),
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    commits: dict[int, float] = {}
    async for raw in proc.stdout:
        line = raw.decode().strip()
        if line.startswith("{"):
            row = json.loads(line)
            commits[row["i"]] = row["t"]
    await proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(len(a) < UPDATES for a in arrivals):
        await asyncio.sleep(0.05)
    cpu_ms = (_cpu_s(pid) - cpu_before) * 1000
    latencies = [(a[i] - commits[i]) * 1000 for a in arrivals for i in a if i in commits]
    missing = clients * UPDATES - len(latencies)
    result = {
        "clients": clients,
        "updates": UPDATES,
        "samples": len(latencies),
        "missing": missing,
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p95_ms": round(_percentile(latencies, 95), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "server_rss_mb": round(_rss_kb(pid) / 1024, 1),
        # Server CPU per update fanned out to every client (includes ~7 s of idle polling at 50/s).
        "server_cpu_ms_per_update": round(cpu_ms / UPDATES, 2),
    }
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


def _rss_tree_kb(pid: int) -> int:
    """RSS of ``pid`` and every process below it (``make run``'s workers)."""
    return _rss_kb(pid) + sum(_rss_kb(k) for k in _children(pid))


def _as_make_run(db: Path, directory: Path) -> dict[str, Any]:
    """1,000 streams against what ``make run`` serves: ``python -m mesa.serve``, one daphne worker per core on
    one port (the scheduler off). The kernel spreads the streams over the workers; each has its own hub."""
    workers = os.cpu_count() or 1
    with reserved_port() as port:
        return _served(db, directory, port, workers)


def _served(db: Path, directory: Path, port: int, workers: int) -> dict[str, Any]:
    log = directory / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mesa.serve"],
            cwd=REPO,
            env=mesa_env(db, PORT=str(port), MESA_WEB_WORKERS=str(workers), MESA_SCHEDULER="off"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mesa.serve did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.05)
        time.sleep(1.0)  # every worker up
        rounds = [asyncio.run(_round(port, proc.pid, db, n, f"m{n}")) for n in (200, 1000)]
        for row in rounds:
            row["server_rss_mb"] = round(_rss_tree_kb(proc.pid) / 1024, 1)
            row.pop("server_cpu_ms_per_update", None)  # the parent's CPU only: not the workers'
        return {"web_workers": workers, "sse_latency": rounds}
    finally:
        stop(proc)


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mesa-bench-sse-") as tmp:
        directory = Path(tmp)
        db = prepare_db(directory)
        server = start_daphne(db, directory / "daphne.log")
        try:
            time.sleep(0.5)
            idle_mb = round(server.rss_kb() / 1024, 1)
            rounds = [asyncio.run(_round(server.port, server.proc.pid, db, n, f"r{n}")) for n in CLIENT_COUNTS]
        finally:
            server.stop()
        served_as_make_run = _as_make_run(db, directory)
    return {
        "sse_latency": rounds,
        "server_rss_idle_mb": idle_mb,
        "server_rss_200_clients_mb": next((r["server_rss_mb"] for r in rounds if r["clients"] == 200), None),
        "server_rss_1000_clients_mb": next((r["server_rss_mb"] for r in rounds if r["clients"] == 1000), None),
        "served_as_make_run": served_as_make_run,
        "target_p95_ms_at_1000": 100,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))

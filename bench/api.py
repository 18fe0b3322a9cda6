"""Agent API latency and the checkout race, against a real daphne on loopback.

Seeds a fresh SQLite database in a temporary directory (1,000 issues, 20 agents
plus 50 racing agents, keys minted through the services), starts
``python -m daphne mesa.asgi:application`` on a free port, then measures with
keep-alive connections (``http.client`` for one client; for several, one asyncio loop driving them all,
``bench/aclient.py``, so that the client's threads do not queue on the GIL in the figures):

- p50/p99 of ``GET /inbox``, ``GET /issues/{key}``, ``POST /issues/{key}/comments``,
  ``GET /issues?limit=50`` (varied offsets) and ``GET /issues?limit=500`` with one client;
- ``GET /issues/{key}`` and ``POST /issues/{key}/comments`` with 10 concurrent clients
  (requests per second, p50/p99/max);
- the checkout race: 50 clients (one agent each) try to check out the same 200
  issues, each in its own random order. Every issue must be won exactly once;
  every other answer must be a 409.

Then the concurrent figures and the race again, ``served_as_make_run``: against ``python -m mesa.serve``
with one daphne worker per core on the one port, which is what ``make run`` serves.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.aclient import AsyncClient  # noqa: E402
from bench.procs import stop  # noqa: E402

N_ISSUES = 1000
N_AGENTS = 20
N_RACERS = 50
RACE_ISSUES = 200
SAMPLES = {"inbox": 300, "issue": 500, "comment": 200, "list50": 200, "list500": 40}
CONCURRENT_CLIENTS = 10
CONCURRENT_REQUESTS = 2000
CONCURRENT_COMMENTS = 1000

SEED = """
import json, random
import django
django.setup()
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
from django.db import transaction
from agents.services import agent_create
from agents.keys import key_create
from issues.models import Issue, Status
from issues.labels import label_create
from orgs.actors import Actor
from orgs.models import Org
from orgs.services import org_create

N_ISSUES, N_AGENTS, N_RACERS, RACE_ISSUES = {n_issues}, {n_agents}, {n_racers}, {race_issues}
rng = random.Random(7)
system = Actor.system("bench")
org = org_create(actor=system, name="Bench", slug="bench", issue_prefix="BEN")
ceo = agent_create(actor=system, org=org, slug="ceo", name="CEO", archetype="ceo", runner="noop")
agents = [ceo]
for n in range(1, N_AGENTS):
    agents.append(agent_create(actor=system, org=org, slug=f"agent-{{n}}", archetype="backend", runner="noop",
                               reports_to=ceo))
racers = [agent_create(actor=system, org=org, slug=f"racer-{{n}}", archetype="backend", runner="noop",
                       reports_to=ceo) for n in range(N_RACERS)]
labels = [label_create(actor=system, org=org, name=name) for name in ("bug", "api", "ui", "perf")]
statuses = ["todo", "in_progress", "in_review", "done", "blocked"]
rows = []
with transaction.atomic():
    for n in range(1, N_ISSUES + 1):
        race = n <= RACE_ISSUES
        assignee = None if race else rng.choice(agents)
        status = "todo" if race or assignee is None else rng.choice(statuses)
        topic = rng.choice(["auth", "search", "billing", "export"])
        rows.append(Issue(org=org, number=n, key=f"BEN-{{n}}", title=f"Bench issue {{n}} about {{topic}}",
                          description="Some words " * 40, status=status, priority=rng.randint(0, 4),
                          assignee=None if status == "todo" and race else assignee, created_by_label="bench"))
    Issue.objects.bulk_create(rows, batch_size=500)
    Org.objects.filter(pk=org.pk).update(issue_seq=N_ISSUES)
    through = Issue.labels.through
    ids = list(Issue.objects.filter(org=org).values_list("id", flat=True))
    through.objects.bulk_create([through(issue_id=i, label_id=rng.choice(labels).pk) for i in ids[::2]])
# The worker whose inbox we read: 25 assigned open issues.
worker = agents[1]
mine = range(RACE_ISSUES + 1, RACE_ISSUES + 26)
Issue.objects.filter(org=org, number__in=mine).update(assignee=worker, status="todo")
def key(agent):
    return key_create(actor=system, org=org, kind="agent", agent=agent)[1]
print(json.dumps({{
    "board": key_create(actor=system, org=org, kind="board")[1],
    "worker": key(worker),
    "racers": [key(a) for a in racers],
    "keys": list(Issue.objects.filter(org=org).order_by("number").values_list("key", flat=True)),
}}))
"""


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _measured(pid: int, requests: int, run: Any) -> dict[str, Any]:
    """Run a phase and add the server's CPU per request: unlike latency, it barely moves when the machine is busy."""
    before = _cpu_s(pid)
    result: dict[str, Any] = run()
    result["server_cpu_ms_per_req"] = round((_cpu_s(pid) - before) * 1000 / max(requests, 1), 2)
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="mesa.settings",
        DATABASE_URL=f"sqlite:///{db}",
        SECRET_KEY="bench-not-secret",
        MESA_LOG_LEVEL="WARNING",
        MESA_SCHEDULER="0",
    )
    return env


class Client:
    """One keep-alive HTTP/1.1 connection speaking JSON with a bearer key."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, float]:
        headers = {"Authorization": f"Bearer {self.key}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            start = time.perf_counter()
            try:
                self.conn.request(method, "/api/v1/" + path, body=data, headers=headers)
                resp = self.conn.getresponse()
                payload = resp.read()
                return resp.status, payload, time.perf_counter() - start
            except (http.client.HTTPException, OSError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(p99 * 1000, 2), "n": len(ordered)}


def _series(client: Client, n: int, make: Any) -> dict[str, Any]:
    times, errors = [], 0
    for i in range(n):
        method, path, body, ok = make(i)
        status, _, took = client.request(method, path, body)
        if status != ok:
            errors += 1
        times.append(took)
    return {**_ms(times), "errors": errors}


def _concurrent(port: int, keys: list[str], method: str, issue_keys: list[str], total: int) -> dict[str, Any]:
    """``CONCURRENT_CLIENTS`` closed-loop clients (keys cycled): GET one issue, or POST a comment on one."""
    return asyncio.run(_concurrent_async(port, keys, method, issue_keys, total))


async def _concurrent_async(
    port: int, keys: list[str], method: str, issue_keys: list[str], total: int
) -> dict[str, Any]:
    per_client = total // CONCURRENT_CLIENTS
    times: list[float] = []
    errors = [0]
    ok = 200 if method == "GET" else 201
    clients = [AsyncClient(port, keys[n % len(keys)]) for n in range(CONCURRENT_CLIENTS)]
    for client in clients:  # connected (and each served once) before the clock starts
        await client.request("GET", f"issues/{issue_keys[0]}")

    async def worker(seed: int, client: AsyncClient) -> None:
        rng = random.Random(seed)
        for i in range(per_client):
            key = rng.choice(issue_keys)
            if method == "GET":
                status, _, took = await client.request("GET", f"issues/{key}")
            else:
                status, _, took = await client.request("POST", f"issues/{key}/comments", {"body": f"load {seed}-{i}"})
            times.append(took)
            if status != ok:
                errors[0] += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(n, c) for n, c in enumerate(clients)))
    elapsed = time.perf_counter() - start
    for client in clients:
        client.close()
    return {
        "clients": CONCURRENT_CLIENTS,
        "requests": len(times),
        "req_per_s": round(len(times) / elapsed, 1),
        **_ms(times),
        "max_ms": round(max(times) * 1000, 1) if times else None,
        "errors": errors[0],
    }


def _race(port: int, racer_keys: list[str], issue_keys: list[str]) -> dict[str, Any]:
    return asyncio.run(_race_async(port, racer_keys, issue_keys))


async def _race_async(port: int, racer_keys: list[str], issue_keys: list[str]) -> dict[str, Any]:
    wins: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    clients = [AsyncClient(port, key) for key in racer_keys]
    for client in clients:
        await client.request("GET", "agents/me")  # connect before the start line

    async def worker(n: int, client: AsyncClient) -> None:
        order = list(issue_keys)
        random.Random(n).shuffle(order)
        for issue_key in order:
            status, _, _ = await client.request("POST", f"issues/{issue_key}/checkout")
            statuses[status] += 1
            if status == 200:
                wins[issue_key] += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(n, c) for n, c in enumerate(clients)))
    elapsed = time.perf_counter() - start
    for client in clients:
        client.close()
    attempts = sum(statuses.values())
    return {
        "clients": len(racer_keys),
        "issues": len(issue_keys),
        "attempts": attempts,
        "claims_won": sum(wins.values()),
        "issues_claimed": len(wins),
        "double_claims": sum(n - 1 for n in wins.values() if n > 1),
        "errors_other_than_409": sum(n for s, n in statuses.items() if s not in (200, 409)),
        "statuses": {str(s): n for s, n in sorted(statuses.items())},
        "attempts_per_s": round(attempts / elapsed, 1),
        "seconds": round(elapsed, 2),
    }


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mesa-bench-api-") as tmp:
        db = Path(tmp) / "bench.db"
        env = _env(db)
        code = SEED.format(n_issues=N_ISSUES, n_agents=N_AGENTS, n_racers=N_RACERS, race_issues=RACE_ISSUES)
        seeded = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
        )
        if seeded.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{seeded.stderr[-3000:]}")
        seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        port = _free_port()
        log = Path(tmp) / "daphne.log"
        with log.open("wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "mesa.asgi:application"],
                cwd=REPO,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_answering(port, proc, log)
            keys: list[str] = seed["keys"]
            browse = keys[RACE_ISSUES:]
            rng = random.Random(1)
            worker = Client(port, seed["worker"])
            board = Client(port, seed["board"])
            for _ in range(30):  # warm up imports, caches and connections
                worker.request("GET", "inbox")
                worker.request("GET", f"issues/{rng.choice(browse)}")
                board.request("GET", "issues?limit=500")
            out: dict[str, Any] = {
                "issues": N_ISSUES,
                "agents": N_AGENTS + N_RACERS,
                "load_average_at_start": round(os.getloadavg()[0], 2),
            }
            pid = proc.pid
            out["get_inbox"] = _measured(
                pid, SAMPLES["inbox"], lambda: _series(worker, SAMPLES["inbox"], lambda i: ("GET", "inbox", None, 200))
            )
            out["get_issue"] = _measured(
                pid,
                SAMPLES["issue"],
                lambda: _series(worker, SAMPLES["issue"], lambda i: ("GET", f"issues/{rng.choice(browse)}", None, 200)),
            )
            out["post_comment"] = _measured(
                pid,
                SAMPLES["comment"],
                lambda: _series(
                    board,
                    SAMPLES["comment"],
                    lambda i: ("POST", f"issues/{rng.choice(browse)}/comments", {"body": f"bench comment {i}"}, 201),
                ),
            )
            out["list_50_issues"] = _measured(
                pid,
                SAMPLES["list50"],
                lambda: _series(
                    board, SAMPLES["list50"], lambda i: ("GET", f"issues?limit=50&offset={(i * 50) % 900}", None, 200)
                ),
            )
            out["list_500_issues"] = _measured(
                pid,
                SAMPLES["list500"],
                lambda: _series(board, SAMPLES["list500"], lambda i: ("GET", "issues?limit=500", None, 200)),
            )
            out["get_issue_concurrent"] = _measured(
                pid,
                CONCURRENT_REQUESTS,
                lambda: _concurrent(port, [seed["worker"]], "GET", browse, CONCURRENT_REQUESTS),
            )
            out["post_comment_concurrent"] = _measured(
                pid,
                CONCURRENT_COMMENTS,
                lambda: _concurrent(port, [seed["board"]], "POST", browse, CONCURRENT_COMMENTS),
            )
            out["checkout_race"] = _measured(
                pid, N_RACERS * RACE_ISSUES, lambda: _race(port, seed["racers"], keys[:RACE_ISSUES])
            )
        finally:
            stop(proc)
        out["served_as_make_run"] = _as_make_run(env, seed, browse)
        out["load_average_at_end"] = round(os.getloadavg()[0], 2)
        return out


def _as_make_run(env: dict[str, str], seed: dict[str, Any], browse: list[str]) -> dict[str, Any]:
    """The concurrent figures against what ``make run`` serves: ``python -m mesa.serve``, one daphne worker per
    core on one port (the scheduler off, so that only requests are measured). The race's issues were won in
    the single-process race: released here first, so this race is a new one."""
    port = _free_port()
    workers = os.cpu_count() or 1
    release = (
        "import django; django.setup()\n"
        "from issues.models import Issue\n"
        f"Issue.objects.filter(key__in={seed['keys'][:RACE_ISSUES]!r}).update(assignee=None, status='todo')\n"
    )
    subprocess.run([sys.executable, "-c", release], cwd=REPO, env=env, check=True, timeout=120)
    with tempfile.TemporaryDirectory(prefix="mesa-bench-serve-") as tmp:
        log = Path(tmp) / "serve.log"
        with log.open("wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mesa.serve"],
                cwd=REPO,
                env={**env, "PORT": str(port), "MESA_WEB_WORKERS": str(workers), "MESA_SCHEDULER": "off"},
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_answering(port, proc, log)
            warm = Client(port, seed["worker"])
            for key in browse[:60]:  # every worker process warms up (the kernel spreads the connections)
                Client(port, seed["worker"]).request("GET", f"issues/{key}")
                warm.request("GET", f"issues/{key}")
            return {
                "web_workers": workers,
                "get_issue_concurrent": _concurrent(port, [seed["worker"]], "GET", browse, CONCURRENT_REQUESTS),
                "post_comment_concurrent": _concurrent(port, [seed["board"]], "POST", browse, CONCURRENT_COMMENTS),
                "checkout_race": _race(port, seed["racers"], seed["keys"][:RACE_ISSUES]),
            }
        finally:
            stop(proc)


def _wait_answering(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/inbox", timeout=2)
            return
        except urllib.error.HTTPError:
            return  # 401: the app answers
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {log.read_text()[-3000:]}") from None
            time.sleep(0.1)


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))

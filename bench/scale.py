"""Scale mode: a soak on PostgreSQL (+ Redis when it answers) with several web workers and schedulers.

``python -m bench --scale [--runs N]`` (``make bench-scale``): not part of the default ``make bench``.

A fresh database is created on the PostgreSQL server at ``MESA_BENCH_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432``) and dropped afterwards. ``python -m mesa.serve`` serves it
with ``MESA_WEB_WORKERS=2`` (no scheduler of its own) and ``SCHEDULERS`` separate
``manage.py scheduler`` processes share the queue; wake-ups go through Redis pub/sub when
``MESA_BENCH_REDIS`` (default ``redis://127.0.0.1:6379/0``) answers, else PostgreSQL LISTEN/NOTIFY.

``CLIENTS`` API clients (board keys, keep-alive HTTP) then work at once: each creates its share of
``noop`` agents and, interleaved with the others, its share of ``runs`` issues assigned to them, so
agents and issues are created concurrently while the schedulers dispatch. Every assignment must end
as exactly one completed run. Reported (read back from the database once the queue is empty):

- ``double_dispatch``: runs beyond the first for one assignment, plus runs executed more than once
  (a ``noop`` run writes exactly one ``text`` event per execution);
- ``lost_runs``: assigned issues without a run; ``stuck_issues``: assigned issues whose run did not
  complete, and runs still queued or running;
- throughput (creates/s through the API, runs/s from the first create to the last finished run),
  assignment → run finished (p50/p99), runs per scheduler, API errors; then the request figures of
  ``bench.api`` (GET one issue, POST a comment; 1 and 10 clients) against the same servers.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.api import CONCURRENT_CLIENTS, Client, _concurrent, _free_port, _series, _wait_answering
from bench.procs import stop

REPO = Path(__file__).resolve().parent.parent
DEFAULT = False  # only with --scale: it needs PostgreSQL and takes minutes
RUNS = 1000
AGENTS = 20
CLIENTS = 6
SCHEDULERS = 3
WEB_WORKERS = 2
SERVER = os.environ.get("MESA_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("MESA_BENCH_REDIS", "redis://127.0.0.1:6379/0")

SEED = """
import json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
from agents.keys import key_create
from orgs.actors import Actor
from orgs.services import org_create
org = org_create(actor=Actor.system("bench"), name="Scale", slug="scale", issue_prefix="SC")
keys = [key_create(actor=Actor.system("bench"), org=org, kind="board")[1] for _ in range(int(sys.argv[1]))]
print(json.dumps({"keys": keys}))
"""

REPORT = """
import json, statistics
import django
django.setup()
from django.db.models import Count
from issues.models import Issue
from runners.models import Run, RunEvent
issues = Issue.objects.filter(org__slug="scale", assignee__isnull=False, title__startswith="soak ")
task_runs = Run.objects.filter(issue__in=issues)
per_issue = dict(task_runs.values_list("issue_id").annotate(n=Count("id")).values_list("issue_id", "n"))
executions = RunEvent.objects.filter(run__in=task_runs, type="text").values("run_id").annotate(n=Count("id"))
twice = sum(row["n"] - 1 for row in executions if row["n"] > 1)
completed = dict(task_runs.filter(status="completed").values_list("issue_id").annotate(n=Count("id"))
                 .values_list("issue_id", "n"))
ids = list(issues.values_list("id", flat=True))
created = dict(issues.values_list("id", "created_at"))
finished = list(task_runs.filter(status="completed").values_list("issue_id", "finished_at"))
latencies = sorted((end - created[i]).total_seconds() * 1000 for i, end in finished if end)
q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
first = min(created.values()) if created else None
last = max((end for _, end in finished if end), default=None)
print(json.dumps({
    "assigned_issues": len(ids),
    "runs": task_runs.count(),
    "completed_runs": sum(completed.values()),
    "double_dispatch": sum(n - 1 for n in per_issue.values() if n > 1) + twice,
    "runs_executed_twice": twice,
    "lost_runs": sum(1 for i in ids if i not in per_issue),
    "stuck_issues": sum(1 for i in ids if not completed.get(i)),
    "runs_left_queued_or_running": Run.objects.filter(status__in=("queued", "running")).count(),
    "failed_runs": task_runs.exclude(status="completed").count(),
    "runs_per_scheduler": sorted(task_runs.values("claimed_by").annotate(n=Count("id")).values_list("n", flat=True)),
    "assignment_to_run_finished_ms": {"p50": round(q[49], 1), "p99": round(q[98], 1),
                                      "max": round(latencies[-1], 1) if latencies else None},
    "seconds_first_create_to_last_run": round((last - first).total_seconds(), 2) if first and last else None,
}))
"""


def _redis_answers() -> bool:
    host = REDIS.split("//", 1)[1].split("/", 1)[0]
    name, _, port = host.rpartition(":")
    try:
        with socket.create_connection((name or host, int(port or 6379)), timeout=2) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except (OSError, ValueError):
        return False


def _create(port: int, keys: list[str], runs: int) -> dict[str, Any]:
    """CLIENTS clients at once: each creates its agents, then its issues assigned to them (round robin)."""
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(keys) + 1)
    agents_each = max(1, AGENTS // len(keys))

    def worker(n: int, key: str) -> None:
        client = Client(port, key)
        client.request("GET", "agents?limit=1")
        barrier.wait()
        slugs: list[str] = []
        for a in range(agents_each):
            slug = f"noop-{n}-{a}"
            status, _, _ = client.request("POST", "agents", {"slug": slug, "runner": "noop", "archetype": "backend"})
            with lock:
                statuses[f"agent {status}"] += 1
            if status == 201:
                slugs.append(slug)
        mine = runs // len(keys) + (1 if n < runs % len(keys) else 0)
        for i in range(mine):
            body = {"title": f"soak {n}-{i}", "assignee": slugs[i % len(slugs)]} if slugs else {"title": "x"}
            status, _, _ = client.request("POST", "issues", body)
            with lock:
                statuses[f"issue {status}"] += 1

    threads = [threading.Thread(target=worker, args=(n, k)) for n, k in enumerate(keys)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    created = sum(n for s, n in statuses.items() if s.endswith(" 201"))
    return {
        "clients": len(keys),
        "answers": dict(sorted(statuses.items())),
        "errors": sum(n for s, n in statuses.items() if not s.endswith(" 201")),
        "creates_per_s": round(created / elapsed, 1),
        "seconds": round(elapsed, 2),
    }


def _script(env: dict[str, str], code: str, *args: str) -> Any:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _wait_queue_empty(env: dict[str, str], expected: int, timeout: float) -> None:
    """Until every assignment has a finished run, or nothing moved for ``timeout`` seconds."""
    probe = """
import json
import django
django.setup()
from runners.models import Run
print(json.dumps([Run.objects.filter(status__in=("queued", "running")).count(),
                  Run.objects.exclude(status__in=("queued", "running")).count()]))
"""
    seen, last_change = -1, time.monotonic()
    while time.monotonic() - last_change < timeout:
        active, finished = _script(env, probe)
        if active == 0 and finished >= expected:
            return
        if finished != seen:
            seen, last_change = finished, time.monotonic()
        time.sleep(1.0)


def main(runs: int = RUNS, *, request_figures: bool = True) -> dict[str, Any]:
    """The soak with ``runs`` noop runs; ``request_figures=False`` skips the request measurements after it."""
    # Imported here: only scale mode needs the PostgreSQL driver (an optional dependency).
    import psycopg

    name = f"mesa_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=5)
    admin.execute(f'CREATE DATABASE "{name}"')
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="mesa-bench-scale-") as tmp:
            redis = _redis_answers()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_", "MESA_", "REDIS_"))}
            port = _free_port()
            env.update(
                DJANGO_SETTINGS_MODULE="mesa.settings",
                DATABASE_URL=f"{SERVER}/{name}",
                SECRET_KEY="bench-not-secret",
                MESA_LOG_LEVEL="WARNING",
                MESA_WORKSPACES_DIR=str(Path(tmp) / "workspaces"),
                MESA_WORKTREES_DIR=str(Path(tmp) / "worktrees"),
                MESA_DB_POOL_SIZE="8",  # 6 processes × 8 stays under max_connections=100
                MESA_MAX_RUNS="12",
                PORT=str(port),
                **({"MESA_REDIS_URL": REDIS} if redis else {}),
            )
            seed = _script(env, SEED, str(CLIENTS + 1))
            logs = Path(tmp)
            for n in range(SCHEDULERS):
                with (logs / f"scheduler-{n}.log").open("wb") as out:
                    procs.append(
                        subprocess.Popen(
                            [sys.executable, "manage.py", "scheduler"], cwd=REPO, env=env, stdout=out, stderr=out
                        )
                    )
            web_log = logs / "serve.log"
            with web_log.open("wb") as out:
                web = subprocess.Popen(
                    [sys.executable, "-m", "mesa.serve"],
                    cwd=REPO,
                    env={**env, "MESA_WEB_WORKERS": str(WEB_WORKERS), "MESA_SCHEDULER": "off"},
                    stdout=out,
                    stderr=out,
                )
            procs.append(web)
            _wait_answering(port, web, web_log)
            result: dict[str, Any] = {
                "database": "postgresql",
                "wakeups": "redis" if redis else "postgres",
                "web_workers": WEB_WORKERS,
                "schedulers": SCHEDULERS,
                "runs_requested": runs,
                "load_average_at_start": round(os.getloadavg()[0], 2),
            }
            result["create"] = _create(port, seed["keys"][:CLIENTS], runs)
            _wait_queue_empty(env, runs, timeout=120)
            result["soak"] = _script(env, REPORT)
            # The request figures use unassigned issues: a comment on an agent's issue would wake it, and the
            # runs it starts would be measured as request latency.
            board = Client(port, seed["keys"][-1])
            issue_keys = []
            for n in range(50 if request_figures else 0):
                status, body, _ = board.request("POST", "issues", {"title": f"plain {n}"})
                if status == 201:
                    issue_keys.append(json.loads(body)["key"])
            if issue_keys:
                result.update(_request_figures(port, seed["keys"], issue_keys))
            result["load_average_at_end"] = round(os.getloadavg()[0], 2)
            for n, proc in enumerate(procs[:SCHEDULERS]):
                if proc.poll() is not None:
                    result.setdefault("scheduler_exits", {})[n] = proc.returncode
            return result
    finally:
        stop(*procs)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _request_figures(port: int, keys: list[str], issue_keys: list[str]) -> dict[str, Any]:
    """bench.api's request figures against the scale servers (no server CPU per request: two worker processes)."""
    rng = random.Random(3)
    one = Client(port, keys[-1])
    for _ in range(20):
        one.request("GET", f"issues/{rng.choice(issue_keys)}")
    out: dict[str, Any] = {}
    out["get_issue"] = _series(one, 300, lambda i: ("GET", f"issues/{rng.choice(issue_keys)}", None, 200))
    out["post_comment"] = _series(
        one, 150, lambda i: ("POST", f"issues/{rng.choice(issue_keys)}/comments", {"body": f"c {i}"}, 201)
    )
    out["get_issue_concurrent"] = _concurrent(port, keys, "GET", issue_keys, CONCURRENT_CLIENTS * 100)
    out["post_comment_concurrent"] = _concurrent(port, keys, "POST", issue_keys, CONCURRENT_CLIENTS * 50)
    return out

"""Dispatch latency and throughput with a real scheduler process, plus its idle CPU and memory.

A fresh SQLite database in a temporary directory is migrated, ``manage.py scheduler`` is
started against it, and a driver process (Django set up, calling the services like the
web app does) measures:

- latency: ``ASSIGNMENTS`` times, one at a time, an issue is created assigned to a ``noop``
  agent; latency = the run's ``finished_at`` (recorded by the scheduler) minus the moment
  the assignment was committed (p50, p99, max);
- throughput: ``BATCH`` issues assigned in one transaction; runs per second until the last
  ``noop`` run is recorded (``MESA_MAX_RUNS`` in parallel, one per agent);
- the scheduler's idle CPU (from ``/proc/<pid>/stat`` over ``IDLE_S`` seconds with nothing to
  do) and its RSS.

Run standalone (``python bench/dispatch.py``) or through ``python -m bench``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run standalone too

from bench.procs import stop  # noqa: E402

ASSIGNMENTS = 200
BATCH = 500
AGENTS = 4
IDLE_S = 5.0

DRIVER = r"""
import json, os, statistics, sys, time
from datetime import timezone as tz
import django
django.setup()
from django.db import transaction
from agents.services import agent_create
from issues.services import issue_create
from orgs.actors import Actor
from orgs.services import org_create
from runners.models import Run, SchedulerState

ASSIGNMENTS, BATCH, AGENTS, IDLE_S, SCHED_PID = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                                 float(sys.argv[4]), int(sys.argv[5]))
HZ = os.sysconf("SC_CLK_TCK")

def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])

def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0

system = Actor.system("bench")
org = org_create(actor=system, name="Bench", slug="bench", issue_prefix="BEN")
agents = [agent_create(actor=system, org=org, slug=f"noop-{n}", archetype="backend", runner="noop")
          for n in range(AGENTS)]

def wait_done(issue_ids, timeout=120.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = Run.objects.filter(issue_id__in=issue_ids, status="completed").count()
        if done >= len(issue_ids):
            return True
        time.sleep(0.002 if len(issue_ids) == 1 else 0.05)
    return False

# Idle first: wait until the scheduler has finished starting (its first beat), then measure.
deadline = time.time() + 60
while not SchedulerState.objects.filter(beat_at__isnull=False).exists() and time.time() < deadline:
    time.sleep(0.05)
time.sleep(1.0)
t0, c0 = time.time(), cpu_ticks(SCHED_PID)
time.sleep(IDLE_S)
idle_cpu = (cpu_ticks(SCHED_PID) - c0) / HZ / (time.time() - t0) * 100
idle_rss = rss_mb(SCHED_PID)

latencies = []
for n in range(ASSIGNMENTS):
    issue = issue_create(actor=system, org=org, title=f"Latency {n}", assignee=agents[n % AGENTS])
    committed = time.time()
    if not wait_done([issue.pk], timeout=30):
        raise SystemExit(f"run for {issue.key} did not complete")
    finished = Run.objects.get(issue=issue).finished_at.timestamp()
    latencies.append((finished - committed) * 1000)

with transaction.atomic():
    ids = [issue_create(actor=system, org=org, title=f"Batch {n}", assignee=agents[n % AGENTS]).pk
           for n in range(BATCH)]
start = time.time()
ok = wait_done(ids, timeout=600)
last = max(r.timestamp() for r in Run.objects.filter(issue_id__in=ids).values_list("finished_at", flat=True) if r)
loaded_rss = rss_mb(SCHED_PID)

latencies.sort()
q = statistics.quantiles(latencies, n=100)
print(json.dumps({
    "assignment_to_noop_run_finished_ms": {
        "n": len(latencies), "p50": round(q[49], 1), "p99": round(q[98], 1), "max": round(latencies[-1], 1),
    },
    "throughput_noop_runs": {
        "runs": BATCH, "all_completed": ok, "seconds": round(last - start, 2),
        "runs_per_s": round(BATCH / max(last - start, 1e-9), 1),
    },
    "scheduler_idle_cpu_percent_of_a_core": round(idle_cpu, 2),
    "scheduler_rss_mb": {"idle": round(idle_rss, 1), "after_load": round(loaded_rss, 1)},
    "machine_load_average_1m": os.getloadavg()[0],
    "cpu_cores": os.cpu_count(),
}))
"""


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mesa-bench-dispatch-") as tmp:
        db = Path(tmp) / "bench.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_", "MESA_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="mesa.settings",
            DATABASE_URL=f"sqlite:///{db}",
            SECRET_KEY="bench-not-secret",
            MESA_WORKSPACES_DIR=str(Path(tmp) / "workspaces"),
            MESA_WORKTREES_DIR=str(Path(tmp) / "worktrees"),
            MESA_LOG_LEVEL="WARNING",
        )
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
        scheduler = subprocess.Popen(
            [sys.executable, "manage.py", "scheduler"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(1.0)
            if scheduler.poll() is not None:
                raise RuntimeError("the scheduler exited at start-up")
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    DRIVER,
                    str(ASSIGNMENTS),
                    str(BATCH),
                    str(AGENTS),
                    str(IDLE_S),
                    str(scheduler.pid),
                ],
                cwd=REPO,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
        finally:
            stop(scheduler)
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        result["scheduler_stopped_cleanly"] = scheduler.returncode == 0
        return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))

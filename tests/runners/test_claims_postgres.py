"""Several processes claim queued runs from one real PostgreSQL queue at once (skipped without a server).

``run_claim`` takes candidates with ``SELECT … FOR UPDATE SKIP LOCKED`` there (runners.claims):
every run must be claimed exactly once, and the run limits must hold across processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from tests.orgs.postgres import PRELUDE, REPO, pg_database, run_mesa_script

pytestmark = pytest.mark.postgres

SEED = """
import json, sys
from agents.services import agent_create
from issues.services import issue_create
from orgs.actors import Actor
from orgs.services import org_create
from runners.services import run_enqueue
agents_n, issues_n = int(sys.argv[1]), int(sys.argv[2])
actor = Actor.system("pg-test")
org = org_create(actor=actor, name="Claims", slug="claims", issue_prefix="CL")
agents = [agent_create(actor=actor, org=org, slug=f"noop-{n}", runner="noop") for n in range(agents_n)]
queued = []
for n in range(issues_n):
    issue = issue_create(actor=actor, org=org, title=f"Claim {n}")
    queued.append(run_enqueue(agent=agents[n % agents_n], issue=issue).run.pk)
print(json.dumps({"queued": queued}))
"""

# One claiming process: THREADS threads call run_claim until the queue is empty. With ``finish`` each
# claimed run is completed at once (frees its slot); the running count seen right after each claim is
# recorded, so a limit broken by two processes together shows up.
CLAIMER = """
import json, sys, threading
from django.db import connection
from runners.models import Run, RunStatus
from runners.services import run_claim
name, threads_n, max_runs, per_agent = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
claimed, peaks, errors = [], [], []
lock = threading.Lock()
start = threading.Barrier(threads_n)
def work(n):
    worker = f"{name}-{n}"
    try:
        start.wait()
        idle = 0
        while idle < 50:
            run = run_claim(worker=worker, max_runs=max_runs, per_agent=per_agent)
            if run is None:
                if not Run.objects.filter(status=RunStatus.QUEUED).exists():
                    break
                idle += 1
                continue
            running = Run.objects.filter(status=RunStatus.RUNNING).count()
            per = Run.objects.filter(status=RunStatus.RUNNING, agent_id=run.agent_id).count()
            with lock:
                claimed.append(run.pk)
                peaks.append([running, per])
            Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(status=RunStatus.COMPLETED)
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()
threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"vendor": connection.vendor, "claimed": claimed, "peaks": peaks, "errors": errors}))
"""


def _claimers(url: str, *, processes: int, threads: int, max_runs: int, per_agent: int) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "mesa.settings",
        "SECRET_KEY": "test-only-not-secret",
        "MESA_LOG_LEVEL": "WARNING",
        "MESA_DB_POOL_SIZE": str(threads + 1),
    }
    script = PRELUDE.replace('call_command("migrate", verbosity=0)', "") + CLAIMER
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, f"p{n}", str(threads), str(max_runs), str(per_agent)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    outs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, stderr[-3000:]
        outs.append(json.loads(stdout.strip().splitlines()[-1]))
    return outs


def test_it_claims_every_run_exactly_once_across_processes_on_postgres() -> None:
    with pg_database() as url:
        queued = run_mesa_script(url, SEED, "30", "240")["queued"]
        outs = _claimers(url, processes=3, threads=3, max_runs=1000, per_agent=1000)
    assert {out["vendor"] for out in outs} == {"postgresql"}
    assert [out["errors"] for out in outs] == [[], [], []]
    claims = Counter(pk for out in outs for pk in out["claimed"])
    assert [pk for pk, n in claims.items() if n > 1] == []  # never twice
    assert sorted(claims) == sorted(queued)  # none lost
    assert sum(1 for out in outs if out["claimed"]) >= 2  # the processes really shared the queue


def test_it_keeps_the_run_limits_across_processes_on_postgres() -> None:
    with pg_database() as url:
        queued = run_mesa_script(url, SEED, "3", "60")["queued"]
        outs = _claimers(url, processes=3, threads=2, max_runs=2, per_agent=1)
    assert [out["errors"] for out in outs] == [[], [], []]
    assert sorted(pk for out in outs for pk in out["claimed"]) == sorted(queued)
    peaks = [peak for out in outs for peak in out["peaks"]]
    assert max(total for total, _ in peaks) <= 2
    assert max(mine for _, mine in peaks) <= 1


# Event 1 (an assignment in org A) is inserted first but commits last; event 2 (org B) commits in between
# and is read by the scheduler first. The cursor must stop before event 1, so it is dispatched once it lands.
OUT_OF_ORDER = """
import json, threading
from django.db import connection, transaction
from agents.services import agent_create
from issues.services import issue_create
from orgs.actors import Actor
from orgs.services import org_create
from runners.dispatch import dispatch_claimed_events
from runners.models import Run
actor = Actor.system("pg-test")
orgs = [org_create(actor=actor, name=f"Org {p}", slug=f"org-{p.lower()}", issue_prefix=p) for p in ("A", "B")]
agents = [agent_create(actor=actor, org=org, slug="noop", runner="noop") for org in orgs]
dispatch_claimed_events()  # the set-up's events are behind the cursor
inserted, go, keys = threading.Event(), threading.Event(), {}
def slow_writer():
    try:
        with transaction.atomic():
            keys["a"] = issue_create(actor=actor, org=orgs[0], title="Late commit", assignee=agents[0]).key
            inserted.set()
            go.wait(30)
    finally:
        connection.close()
writer = threading.Thread(target=slow_writer)
writer.start()
inserted.wait(30)
keys["b"] = issue_create(actor=actor, org=orgs[1], title="Early commit", assignee=agents[1]).key
first = [run.issue.key for run in dispatch_claimed_events()[1]]
go.set()
writer.join()
second = [run.issue.key for run in dispatch_claimed_events()[1]]
queued = sorted(Run.objects.values_list("issue__key", flat=True))
print(json.dumps({"keys": keys, "first": first, "second": second, "queued": queued}))
"""


def test_it_dispatches_an_event_committed_out_of_id_order_on_postgres() -> None:
    with pg_database() as url:
        out = run_mesa_script(url, OUT_OF_ORDER)
    keys = out["keys"]
    assert out["first"] == []  # the cursor waited at the event still being committed
    assert sorted(out["second"]) == sorted([keys["a"], keys["b"]])
    assert out["queued"] == sorted([keys["a"], keys["b"]])  # nothing lost

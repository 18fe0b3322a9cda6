"""Server time and query count of the dashboard pages: the board and the issue page at 1,000 and 10,000 issues.

For each size, a child process seeds a fresh SQLite database in a temporary
directory (20 agents, 4 labels on half the issues, one issue in ten a sub-issue,
comments and runs on the measured issue) and then renders pages in process with
``django.test.Client``, wrapping each request in ``CaptureQueriesContext``.
Reported per page: the median and p95 of the server time over warm requests, and
the query count. Target (../shared/targets.md): the board with 10,000 issues in <= 30 ms and <= 12 queries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SIZES = (1000, 10000)
SAMPLES = 25

CHILD = r"""
import json, random, statistics, time
import django
django.setup()
from django.conf import settings
settings.ALLOWED_HOSTS = ["testserver"]
from django.core.management import call_command
call_command("migrate", "--noinput", verbosity=0)
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from agents.services import agent_create
from issues.models import Issue, Status
from issues.comments import comment_create
from issues.labels import label_create
from orgs.actors import Actor
from orgs.models import Org
from orgs.services import org_create
from runners.models import Run, RunEvent

N, SAMPLES = {n}, {samples}
rng = random.Random(5)
system = Actor.system("bench")
org = org_create(actor=system, name="Bench", slug="bench", issue_prefix="BEN")
ceo = agent_create(actor=system, org=org, slug="ceo", name="CEO", archetype="ceo", runner="noop")
agents = [ceo] + [agent_create(actor=system, org=org, slug=f"agent-{{i}}", archetype="backend", runner="noop",
                               reports_to=ceo) for i in range(19)]
labels = [label_create(actor=system, org=org, name=name) for name in ("bug", "api", "ui", "perf")]
with transaction.atomic():
    rows = [Issue(org=org, number=i, key=f"BEN-{{i}}", title=f"Bench issue {{i}}", description="words " * 30,
                  status=rng.choice(Status.values), priority=rng.randint(0, 4), assignee=rng.choice(agents + [None]))
            for i in range(1, N + 1)]
    Issue.objects.bulk_create(rows, batch_size=1000)
    Org.objects.filter(pk=org.pk).update(issue_seq=N)
    ids = list(Issue.objects.filter(org=org).order_by("number").values_list("id", flat=True))
    through = Issue.labels.through
    links = [through(issue_id=i, label_id=rng.choice(labels).pk) for i in ids[::2]]
    through.objects.bulk_create(links, batch_size=1000)
    for child in ids[10::10]:
        Issue.objects.filter(pk=child).update(parent_id=rng.choice(ids[:10]))
issue = Issue.objects.get(org=org, number=1)
for i in range(20):
    comment_create(actor=system, issue=issue, body=f"Comment **{{i}}**")
run = Run.objects.create(org=org, agent=agents[1], issue=issue, status="completed", diff="+a\n-b\n" * 50)
events = [RunEvent(run=run, seq=s, type="text", data={{"text": f"step {{s}}"}}) for s in range(1, 201)]
RunEvent.objects.bulk_create(events)

client = Client()

def measure(url, headers=None):
    headers = headers or {{}}
    for _ in range(3):
        assert client.get(url, **headers).status_code == 200, url
    times = []
    queries = 0
    for _ in range(SAMPLES):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(url, **headers)
            times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, url
        queries = len(ctx.captured_queries)
    times.sort()
    return {{"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            "queries": queries}}

print(json.dumps({{
    "board": measure("/issues/?view=board"),
    "board_htmx_partial": measure("/issues/", {{"HTTP_HX_REQUEST": "true"}}),
    "list_by_assignee": measure("/issues/?view=list&group=assignee"),
    "board_text_filter": measure("/issues/?view=board&q=issue%2099"),
    "issue_page": measure(f"/issues/{{issue.key}}/"),
    "dashboard": measure("/"),
}}))
"""


def _run(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mesa-bench-ui-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="mesa.settings",
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'ui.db'}",
            MESA_TRUSTED_LOCAL="1",
            MESA_LOCAL_LOGIN="0",  # trusted local mode without the one-time login link: pages answer at once
            MESA_ARCHETYPES_DIR=str(Path(tmp) / "archetypes"),
        )
        done = subprocess.run(
            [sys.executable, "-c", CHILD.format(n=n, samples=SAMPLES)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            raise RuntimeError(f"ui bench with {n} issues failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def main() -> dict[str, Any]:
    results: dict[str, Any] = {f"{n}_issues": _run(n) for n in SIZES}
    board = results["10000_issues"]["board"]
    results["target_board_10k"] = {
        "p50_ms": board["p50_ms"],
        "queries": board["queries"],
        "met": board["p50_ms"] <= 30 and board["queries"] <= 12,
    }
    return results


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))

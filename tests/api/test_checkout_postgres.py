"""The checkout race against a real PostgreSQL server (skipped when none is reachable).

A subprocess runs Mesa with ``DATABASE_URL=postgres://...``: agents in threads
check out the same issues through the API at once; it prints every answer.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.orgs.postgres import pg_database, run_mesa_script

pytestmark = pytest.mark.postgres

SCRIPT = """
import json, sys, threading
from django.db import connection
from django.test import Client
from agents.services import agent_create
from agents.keys import key_create
from issues.services import issue_create
from orgs.actors import Actor
from orgs.services import org_create

racers, issues = int(sys.argv[1]), int(sys.argv[2])
actor = Actor.system("pg-test")
org = org_create(actor=actor, name="Race", slug="race", issue_prefix="RACE")
ceo = agent_create(actor=actor, org=org, slug="ceo", archetype="ceo", runner="noop")
keys = {}
for n in range(racers):
    agent = agent_create(actor=actor, org=org, slug=f"racer-{n}", runner="noop", reports_to=ceo)
    keys[key_create(actor=actor, org=org, kind="agent", agent=agent)[1]] = agent.slug
targets = [issue_create(actor=actor, org=org, title=f"Race {n}").key for n in range(issues)]
results = []
lock = threading.Lock()
barrier = threading.Barrier(racers)

def work(raw):
    client = Client(HTTP_HOST="127.0.0.1")
    try:
        barrier.wait()
        for key in targets:
            r = client.post(f"/api/v1/issues/{key}/checkout", headers={"authorization": f"Bearer {raw}"})
            with lock:
                results.append([keys[raw], key, r.status_code])
    finally:
        connection.close()

threads = [threading.Thread(target=work, args=(raw,)) for raw in keys]
for t in threads:
    t.start()
for t in threads:
    t.join()
from issues.models import Issue
held = dict(Issue.objects.filter(org=org).values_list("key", "assignee__slug"))
print(json.dumps({"vendor": connection.vendor, "results": results, "held": held}))
"""


def test_it_lets_exactly_one_checkout_win_per_issue_on_postgres() -> None:
    with pg_database() as url:
        out = run_mesa_script(url, SCRIPT, "6", "8")
    assert out["vendor"] == "postgresql"  # the race really ran on Postgres
    results = out["results"]
    assert {status for _, _, status in results} <= {200, 409}
    wins = Counter(issue for _, issue, status in results if status == 200)
    assert sorted(wins.values()) == [1] * 8
    winners = {issue: slug for slug, issue, status in results if status == 200}
    assert winners == out["held"]

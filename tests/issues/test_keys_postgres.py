"""Concurrent key allocation against a real PostgreSQL server (skipped when none is reachable).

A subprocess runs Mesa with ``DATABASE_URL=postgres://...`` against a fresh
database: it migrates, creates issues from several threads and prints the keys
as JSON. The test creates and drops that database around it.
"""

from __future__ import annotations

import pytest

from tests.orgs.postgres import pg_database, run_mesa_script

pytestmark = pytest.mark.postgres

THREADS = 8
PER_THREAD = 25

SCRIPT = """
import json, sys, threading
from django.db import connection
from issues.models import Issue
from issues.services import issue_create
from orgs.actors import Actor
from orgs.errors import Conflict
from orgs.models import Org
from orgs.services import org_create

threads, per_thread = int(sys.argv[1]), int(sys.argv[2])
actor = Actor.system("pg-test")
org = org_create(actor=actor, name="Race", slug="race", issue_prefix="RACE")
twin = org_create(actor=actor, name="Twin", slug="twin", issue_prefix="RACE")
errors = []
barrier = threading.Barrier(threads)

def work(n):
    try:
        mine = Org.objects.get(pk=(twin if n % 4 == 3 else org).pk)
        barrier.wait()
        for i in range(per_thread):
            issue_create(actor=actor, org=mine, title=f"worker {n} issue {i}")
        try:
            issue_create(actor=actor, org=mine, title=f"WORKER {n}   issue 0")
            errors.append("duplicate title was accepted")
        except Conflict:
            pass
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()

created = []
same = threading.Barrier(threads)

def same_title(n):
    try:
        mine = Org.objects.get(pk=org.pk)
        same.wait()
        created.append(issue_create(actor=actor, org=mine, title="Everyone files this").key)
    except Conflict:
        pass
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()

for target in (work, same_title):
    pool = [threading.Thread(target=target, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
rows = {
    slug: sorted(Issue.objects.filter(org__slug=slug).values_list("number", "key"))
    for slug in ("race", "twin")
}
print(json.dumps({"vendor": connection.vendor, "errors": errors, "rows": rows, "same_title": created}))
"""


def test_it_allocates_gapless_keys_under_concurrency_on_postgres() -> None:
    with pg_database() as url:
        result = run_mesa_script(url, SCRIPT, str(THREADS), str(PER_THREAD))
    assert result["vendor"] == "postgresql"
    assert result["errors"] == []
    # Threads racing to file the same title: exactly one wins, the rest get the duplicate Conflict.
    assert len(result["same_title"]) == 1, result["same_title"]
    twin_threads = sum(1 for n in range(THREADS) if n % 4 == 3)
    expected = {"race": (THREADS - twin_threads) * PER_THREAD + 1, "twin": twin_threads * PER_THREAD}
    for slug, total in expected.items():
        rows = result["rows"][slug]
        assert [n for n, _ in rows] == list(range(1, total + 1)), slug
        assert [k for _, k in rows] == [f"RACE-{n}" for n in range(1, total + 1)], slug

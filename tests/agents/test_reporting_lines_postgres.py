"""Crossing re-orgs (a under b while b goes under a) on a real PostgreSQL server never close a cycle.

Skipped when no server is reachable (see tests/orgs/postgres.py).
"""

from __future__ import annotations

import pytest

from tests.orgs.postgres import pg_database, run_mesa_script

pytestmark = pytest.mark.postgres

PAIRS = 6

SCRIPT = """
import json, sys, threading
from django.db import connection
from agents.models import Agent
from agents.services import agent_create, agent_update
from orgs.actors import Actor
from orgs.errors import InvalidInput
from orgs.services import org_create

pairs = int(sys.argv[1])
actor = Actor.system("pg-test")
org = org_create(actor=actor, name="Reorg", slug="reorg", issue_prefix="RE")
ids = [
    (agent_create(actor=actor, org=org, slug=f"x{i}").pk, agent_create(actor=actor, org=org, slug=f"y{i}").pk)
    for i in range(pairs)
]
errors, refused = [], []
barrier = threading.Barrier(2 * pairs)

def reorg(n):
    x, y = ids[n // 2]
    agent_id, manager_id = (x, y) if n % 2 else (y, x)
    try:
        agent, manager = Agent.objects.get(pk=agent_id), Agent.objects.get(pk=manager_id)
        barrier.wait()
        agent_update(actor=actor, agent=agent, reports_to=manager)
    except InvalidInput as exc:
        refused.append(exc.code)
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()

pool = [threading.Thread(target=reorg, args=(n,)) for n in range(2 * pairs)]
for t in pool:
    t.start()
for t in pool:
    t.join()
lines = dict(Agent.objects.values_list("id", "reports_to_id"))
pairs = [[lines[x], lines[y]] for x, y in ids]
print(json.dumps({"vendor": connection.vendor, "errors": errors, "refused": refused, "pairs": pairs, "ids": ids}))
"""


def test_it_never_closes_a_cycle_under_concurrent_reorgs_on_postgres() -> None:
    with pg_database() as url:
        result = run_mesa_script(url, SCRIPT, str(PAIRS))
    assert result["vendor"] == "postgresql"  # the race really ran on Postgres
    assert result["errors"] == []
    assert result["refused"] == ["reporting_cycle"] * PAIRS
    for (x, y), (x_manager, y_manager) in zip(result["ids"], result["pairs"], strict=True):
        assert (x_manager, y_manager) in {(y, None), (None, x)}, "exactly one of each pair moved under the other"

"""Claiming a queued run: one function, the database backend decides how.

Both variants move exactly one ``queued`` run to ``running`` with a conditional UPDATE that
re-checks the limits (``MESA_MAX_RUNS`` in total, ``MESA_MAX_RUNS_PER_AGENT`` per agent, one
running run per issue), so no run is ever claimed twice and no limit is exceeded.

- SQLite (one writer at a time): read up to 20 candidates, then try the conditional UPDATE on
  each until one succeeds. The UPDATE is atomic; a loser's row count is 0.
- PostgreSQL (many schedulers at once): ``SELECT … FOR UPDATE OF run SKIP LOCKED LIMIT 1``.
  Concurrent claimers lock *different* candidate rows and never wait on each other's rows.
  The limits span rows, so the conditional UPDATE that re-checks them runs under a
  transaction-scoped advisory lock taken *after* the row is locked: only the short count-and-
  update is serialised, not the candidate search (which the lock used to cover).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, IntegerField, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.models import AgentStatus
from orgs.compiled import compiled, compiled_models
from runners.models import Run, RunStatus

# The advisory lock key that serialises the limit check of concurrent claimers on PostgreSQL.
CLAIM_LOCK = 4242
SQLITE_CANDIDATES = 20
POSTGRES_ATTEMPTS = 20
# How long a hole in the event ids may stay open before it counts as a rolled-back insert (see events_before_gap).
EVENT_GAP_WAIT_S = 5.0


# Read for every run claimed and again when it executes, and asked before every claim: compiled once
# (orgs/compiled.py); building these querysets cost the scheduler more CPU than running them.
_run_with_parts = compiled_models(
    lambda pk: Run.objects.select_related("agent", "agent__org", "issue", "org").filter(pk=pk)
)
_one_in_status = compiled(lambda status: Run.objects.filter(status=status).values_list("id")[:1])


def run_with_parts(pk: int) -> Run:
    """The run ``pk`` with its agent (and the agent's org), issue and org; ``Run.DoesNotExist`` if there is none."""
    run: Run | None = _run_with_parts.first(pk)
    if run is None:
        raise Run.DoesNotExist(f"no run {pk}")
    return run


def any_queued() -> bool:
    """Whether a run is waiting to be claimed."""
    return bool(_one_in_status(RunStatus.QUEUED.value))


def _running_count(**filters: Any) -> Subquery:
    return Subquery(
        Run.objects.filter(status=RunStatus.RUNNING, **filters)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values("n")[:1],
        output_field=IntegerField(),
    )


def _claimable(*, per_agent: int) -> QuerySet[Run]:
    """Queued runs that may start now: active agent, due, its issue and agent not at their limit."""
    busy_agents = (
        Run.objects.filter(status=RunStatus.RUNNING)
        .values("agent_id")
        .annotate(n=Count("id"))
        .filter(n__gte=per_agent)
        .values("agent_id")
    )
    # Two runs never hold one issue's branch at once: a run waits while another runs on its issue.
    busy_issues = Run.objects.filter(status=RunStatus.RUNNING, issue__isnull=False).values("issue_id")
    return (
        Run.objects.filter(status=RunStatus.QUEUED, agent__status=AgentStatus.ACTIVE)
        .exclude(issue_id__in=busy_issues)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=timezone.now()))
        .exclude(agent_id__in=busy_agents)
        .order_by("id")
    )


def _take(*, pk: int, agent_id: int, worker: str, max_runs: int, per_agent: int) -> bool:
    """The conditional UPDATE: queued → running only if every limit still holds. True when it won."""
    busy_issues = Run.objects.filter(status=RunStatus.RUNNING, issue__isnull=False).values("issue_id")
    return bool(
        Run.objects.filter(pk=pk, status=RunStatus.QUEUED)
        .exclude(issue_id__in=busy_issues)
        .alias(
            total=Coalesce(_running_count(), Value(0)),
            mine=Coalesce(_running_count(agent_id=agent_id), Value(0)),
        )
        .filter(total__lt=max_runs, mine__lt=per_agent)
        .update(status=RunStatus.RUNNING, claimed_by=worker[:100], started_at=timezone.now())
    )


def _claim_sqlite(*, worker: str, max_runs: int, per_agent: int) -> int | None:
    candidates = list(_claimable(per_agent=per_agent).values_list("pk", "agent_id")[:SQLITE_CANDIDATES])
    for pk, agent_id in candidates:
        if _take(pk=pk, agent_id=agent_id, worker=worker, max_runs=max_runs, per_agent=per_agent):
            return int(pk)
    return None


def _claim_postgres(*, worker: str, max_runs: int, per_agent: int) -> int | None:
    tried: list[int] = []
    locked = False
    for _ in range(POSTGRES_ATTEMPTS):
        # One row at a time: locking a batch would hide all of it from the other claimers.
        row = (
            _claimable(per_agent=per_agent)
            .exclude(pk__in=tried)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", "agent_id")
            .first()
        )
        if row is None:
            return None
        pk, agent_id = row
        if not locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK])
            locked = True
        if _take(pk=pk, agent_id=agent_id, worker=worker, max_runs=max_runs, per_agent=per_agent):
            return int(pk)
        tried.append(pk)  # a limit was reached meanwhile (its agent or issue got busy): try the next
    return None


def claim_queued_run(*, worker: str, max_runs: int, per_agent: int) -> int | None:
    """Move the oldest startable queued run to ``running`` (``claimed_by=worker``); its id, or None.

    Runs in its own transaction (a savepoint inside a caller's): on PostgreSQL the row lock and
    the advisory lock are released at its end.
    """
    with transaction.atomic():
        if Run.objects.filter(status=RunStatus.RUNNING).count() >= max_runs:
            return None
        if connection.vendor == "postgresql":
            return _claim_postgres(worker=worker, max_runs=max_runs, per_agent=per_agent)
        return _claim_sqlite(worker=worker, max_runs=max_runs, per_agent=per_agent)


def events_before_gap(rows: list[tuple[int, str, datetime]], cursor: int) -> list[tuple[int, str, datetime]]:
    """The events (``id, type, created_at`` in id order, all after ``cursor``) that the shared cursor may pass.

    On PostgreSQL an id is handed out at insert but becomes visible at commit, so event 11 can be visible
    while event 10's transaction is still running. Passing 11 would skip 10 for good: an assignment
    never dispatched (the scale soak lost 2 runs of 1,000 that way). So the cursor stops before the
    first hole; the scheduler looks again on its next pass. A hole whose next event is older than
    ``EVENT_GAP_WAIT_S`` is a rolled-back insert (a sequence never gives an id back) and is passed.
    SQLite commits one writer at a time in id order: nothing to wait for.
    """
    if connection.vendor != "postgresql":
        return rows
    horizon = timezone.now() - timedelta(seconds=EVENT_GAP_WAIT_S)
    expected = cursor + 1
    for n, (pk, _type, created_at) in enumerate(rows):
        if pk != expected and created_at > horizon:
            return rows[:n]
        expected = pk + 1
    return rows

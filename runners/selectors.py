"""Reads across the engine's rows: each agent's live state for the dashboard and the agents page; one run
for an actor, and who may read its prompt or cancel it."""

from __future__ import annotations

from typing import Any

from agents.models import Agent, AgentStatus
from agents.selectors import is_ceo, manages
from orgs.actors import Actor
from orgs.errors import NotFound
from orgs.models import Org
from orgs.numbers import whole_number
from runners.budget import over_budget_ids
from runners.models import Run, RunStatus
from runners.usage import day_start, usage_by_agent


def agent_states(org: Org) -> list[dict[str, Any]]:
    """Each agent with its live state: running (which issue) / idle / paused / over budget; four queries."""
    agents = list(
        Agent.objects.filter(org=org)
        .exclude(status=AgentStatus.TERMINATED)
        .select_related("reports_to")
        .order_by("name")
    )
    running: dict[int, Run] = {}
    run: Run | None
    for run in (
        Run.objects.filter(org=org, status=RunStatus.RUNNING)
        .select_related("issue")
        .only("id", "agent_id", "issue__key", "issue__title", "started_at", "mode")
    ):
        running.setdefault(run.agent_id, run)
    today = usage_by_agent(org, since=day_start())
    over_ids = over_budget_ids(agents, today)
    rows = []
    for agent in agents:
        usage = today.get(agent.pk)
        over = agent.pk in over_ids
        run = running.get(agent.pk)
        if agent.status == AgentStatus.PAUSED:
            state = "paused"
        elif over:
            state = "over"
        elif run is not None:
            state = "running"
        else:
            state = "idle"
        rows.append({"agent": agent, "state": state, "run": run, "today": usage})
    return rows


def run_get_for(*, actor: Actor, org: Org, run_id: int | str) -> Run:
    """The run ``run_id`` of ``org`` if ``actor`` may read it, else NotFound.

    Everyone in an org may read its runs (the auditor reads them all); another org's run,
    or a malformed id, is NotFound (404), never a hint that it exists.
    """
    pk = whole_number(str(run_id), minimum=1)
    if pk is None or (actor.agent is not None and actor.agent.org_id != org.pk):
        raise NotFound(f"There is no run {run_id}.")
    run = Run.objects.select_related("agent", "issue").filter(org=org, pk=pk).first()
    if run is None:
        raise NotFound(f"There is no run {run_id}.")
    run.org = org
    return run


def run_prompt_readable(actor: Actor, run: Run) -> bool:
    """May ``actor`` read the prompt of ``run``? The board, the run's own agent and its managers (up to the CEO).

    A prompt holds the agent's role and everything it was told; peers see the run's outcome, not its instructions.
    """
    if actor.agent is None:
        return actor.board
    if actor.agent.org_id != run.org_id:
        return False
    return actor.agent.pk == run.agent_id or is_ceo(actor.agent) or manages(actor.agent, run.agent_id)


def run_cancellable_by(actor: Actor, run: Run) -> bool:
    """May ``actor`` cancel ``run``? The board and the agent's manager chain (up to the CEO).

    Not the agent itself: a run that wants to stop simply ends, and an agent that could cancel its own
    other runs could dodge a review or a rework it was woken for.
    """
    if actor.agent is None:
        return actor.board
    if actor.agent.org_id != run.org_id or actor.agent.pk == run.agent_id:
        return False
    return is_ceo(actor.agent) or manages(actor.agent, run.agent_id)

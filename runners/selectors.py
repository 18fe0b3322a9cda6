"""Reads across the engine's rows: each agent's live state for the dashboard and the agents page."""

from __future__ import annotations

from typing import Any

from agents.models import Agent, AgentStatus
from orgs.models import Org
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

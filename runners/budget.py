"""Hard daily budgets: what an agent may still spend today (UTC), and what happens when it may not.

``budget_remaining`` is read before every dispatch and when a run starts (it seeds the
mid-run meter in ``runners/sink.py``). ``budget_block`` is the one reaction to an agent
over budget: no run, a system comment on the issue, and one pending ``budget_raise``
approval (never a second one while one is pending).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agents.models import Agent
from approvals.models import Approval, ApprovalKind, ApprovalStatus
from approvals.services import approval_create
from issues.comments import system_comment
from issues.models import Issue
from orgs.actors import Actor
from runners.usage import UsageTotals, agent_usage_today, day_start


@dataclass(frozen=True)
class Remaining:
    """What is left today. ``None`` = no limit of that kind."""

    tokens: int | None
    cost_usd: Decimal | None
    used_tokens: int = 0
    used_cost_usd: Decimal = Decimal(0)
    limit_tokens: int | None = None
    limit_cost_usd: Decimal | None = None

    @property
    def exhausted(self) -> bool:
        return (self.tokens is not None and self.tokens <= 0) or (
            self.cost_usd is not None and self.cost_usd <= Decimal(0)
        )

    @property
    def limited(self) -> bool:
        return self.tokens is not None or self.cost_usd is not None

    def describe(self, agent: Agent) -> str:
        parts = []
        if self.limit_tokens is not None:
            parts.append(f"{self.used_tokens:,} of {self.limit_tokens:,} tokens")
        if self.limit_cost_usd is not None:
            parts.append(f"${self.used_cost_usd:.4f} of ${self.limit_cost_usd:.2f}")
        return " and ".join(parts) or "no limit"


def _raises_today(agent_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Payloads of budget raises approved today (UTC), per agent id; one query."""

    out: dict[int, list[dict[str, Any]]] = {}
    rows = Approval.objects.filter(
        subject_agent_id__in=agent_ids,
        kind=ApprovalKind.BUDGET_RAISE,
        status=ApprovalStatus.APPROVED,
        decided_at__gte=day_start(),
    ).values_list("subject_agent_id", "payload")
    for agent_id, payload in rows:
        out.setdefault(agent_id, []).append(payload or {})
    return out


def _lifted(agent: Agent, payloads: list[dict[str, Any]]) -> tuple[int | None, Decimal | None]:
    tokens = None if agent.daily_token_limit is None else int(agent.daily_token_limit)
    cost = None if agent.daily_cost_limit_usd is None else Decimal(agent.daily_cost_limit_usd)
    for payload in payloads:
        raised_tokens = payload.get("daily_token_limit")
        raised_cost = payload.get("daily_cost_limit_usd")
        if tokens is not None and raised_tokens is not None:
            tokens = max(tokens, int(raised_tokens))
        if cost is not None and raised_cost is not None:
            cost = max(cost, Decimal(str(raised_cost)))
    return tokens, cost


def effective_limits(agent: Agent) -> tuple[int | None, Decimal | None]:
    """Today's daily limits: the configured ones, lifted by budget raises approved today (UTC).

    A raise lasts for the day it was approved; tomorrow the configured limits apply again.
    """
    return _lifted(agent, _raises_today([agent.pk]).get(agent.pk, []))


def over_budget_ids(agents: list[Agent], usage_today: dict[int, UsageTotals]) -> set[int]:
    """Ids of ``agents`` whose spend today reached today's limits (for lists: one query in all)."""
    limited = [a for a in agents if a.daily_token_limit is not None or a.daily_cost_limit_usd is not None]
    raises = _raises_today([a.pk for a in limited]) if limited else {}
    over: set[int] = set()
    for agent in limited:
        used = usage_today.get(agent.pk, UsageTotals())
        tokens, cost = _lifted(agent, raises.get(agent.pk, []))
        if (tokens is not None and used.tokens >= tokens) or (cost is not None and used.cost_usd >= cost):
            over.add(agent.pk)
    return over


def budget_remaining(agent: Agent) -> Remaining:
    """Today's remaining token and cost budget of ``agent`` (all its runs created today count)."""
    if agent.daily_token_limit is None and agent.daily_cost_limit_usd is None:
        return Remaining(None, None)
    limit_tokens, limit_cost = effective_limits(agent)
    used = agent_usage_today(agent)
    used_tokens, used_cost = used.tokens, used.cost_usd
    tokens = None if limit_tokens is None else limit_tokens - used_tokens
    cost = None if limit_cost is None else limit_cost - used_cost
    return Remaining(tokens, cost, used_tokens, used_cost, limit_tokens, limit_cost)


def budget_block(*, agent: Agent, issue: Issue | None, remaining: Remaining | None = None) -> None:
    """React to ``agent`` being over its daily budget: comment on the issue, ask for a raise once."""

    remaining = remaining or budget_remaining(agent)
    spent = remaining.describe(agent)
    pending = Approval.objects.filter(
        org_id=agent.org_id, kind=ApprovalKind.BUDGET_RAISE, subject_agent=agent, status=ApprovalStatus.PENDING
    ).exists()
    if issue is not None and not pending:
        # One comment per budget episode: while a raise is pending the issue already says so.
        system_comment(
            issue=issue,
            body=(
                f"{agent.slug} is over its daily budget ({spent} used today, UTC), so it was not started. "
                "A budget raise has been requested; it resumes after a raise or tomorrow."
            ),
        )
    if not pending:
        proposal = proposed_limits(agent)
        shown = " and ".join(
            part
            for part in (
                f"{proposal['daily_token_limit']:,} tokens" if proposal["daily_token_limit"] is not None else "",
                f"${proposal['daily_cost_limit_usd']}" if proposal["daily_cost_limit_usd"] is not None else "",
            )
            if part
        )
        approval_create(
            actor=Actor.system("scheduler"),
            org=agent.org,
            kind=ApprovalKind.BUDGET_RAISE,
            title=f"Raise the daily budget of {agent.slug} to {shown}",
            reason=f"{agent.slug} has used {spent} today and cannot start new work. "
            "Approving doubles its limits for the rest of today (UTC); rejecting keeps it stopped until tomorrow.",
            issue=issue,
            subject_agent=agent,
            payload={"agent_id": agent.pk, **proposal},
        )


def proposed_limits(agent: Agent) -> dict[str, Any]:
    """The raise Mesa proposes: each of today's daily limits doubled."""
    limit_tokens, limit_cost = effective_limits(agent)
    tokens = None if limit_tokens is None else max(1, limit_tokens) * 2
    cost = None
    if limit_cost is not None:
        cost = str((max(limit_cost, Decimal("0.01")) * 2).quantize(Decimal("0.01")))
    return {"daily_token_limit": tokens, "daily_cost_limit_usd": cost}

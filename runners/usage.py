"""Token and cost totals read from runs: today's (UTC) usage per agent, totals per org.

Budgets (checked before and during every run) and the usage API both read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from agents.models import Agent
from orgs.models import Org
from runners.models import Run


@dataclass(frozen=True)
class UsageTotals:
    tokens_in: int = 0
    tokens_out: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cost_usd: Decimal = Decimal(0)
    runs: int = 0

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out + self.cache_read + self.cache_write


def day_start(now: datetime | None = None) -> datetime:
    """Midnight UTC of the current day: budgets are daily in UTC."""
    now = now or timezone.now()
    return datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)


_AGG: dict[str, Any] = {
    "tokens_in": Coalesce(Sum("tokens_in"), 0),
    "tokens_out": Coalesce(Sum("tokens_out"), 0),
    "cache_read": Coalesce(Sum("tokens_cache_read"), 0),
    "cache_write": Coalesce(Sum("tokens_cache_write"), 0),
    "cost_usd": Coalesce(
        Sum("cost_usd"), Value(Decimal(0)), output_field=DecimalField(max_digits=14, decimal_places=6)
    ),
}


def _totals(row: Mapping[str, Any], runs: int) -> UsageTotals:
    return UsageTotals(
        tokens_in=int(row["tokens_in"]),
        tokens_out=int(row["tokens_out"]),
        cache_read=int(row["cache_read"]),
        cache_write=int(row["cache_write"]),
        cost_usd=Decimal(row["cost_usd"]),
        runs=runs,
    )


def _since_q(since: datetime | None) -> Q:
    # A run counts on the day it was created (queued runs have no started_at yet).
    return Q(created_at__gte=since) if since else Q()


def agent_usage(agent: Agent, *, since: datetime | None = None) -> UsageTotals:
    runs = Run.objects.filter(Q(agent=agent) & _since_q(since))
    return _totals(runs.aggregate(**_AGG), runs.count())


def agent_usage_today(agent: Agent) -> UsageTotals:
    return agent_usage(agent, since=day_start())


def usage_by_agent(org: Org, *, since: datetime | None = None) -> dict[int, UsageTotals]:
    """Agent id → totals, for every agent of ``org`` with at least one run (one query)."""
    rows = (
        Run.objects.filter(Q(org=org) & _since_q(since)).values("agent_id").annotate(n=Sum(Value(1)), **_AGG).order_by()
    )
    return {row["agent_id"]: _totals(row, int(row["n"])) for row in rows}


def usage_by_day(org: Org, *, days: int = 14, agent: Agent | None = None) -> list[tuple[str, UsageTotals]]:
    """(ISO date, totals) for each of the last ``days`` UTC days, oldest first, zero-filled."""
    start = day_start() - timedelta(days=days - 1)
    runs = Run.objects.filter(org=org, created_at__gte=start)
    if agent is not None:
        runs = runs.filter(agent=agent)
    rows = (
        runs.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(n=Sum(Value(1)), **_AGG)
        .order_by()
    )
    by_day = {row["day"].isoformat(): _totals(row, int(row["n"])) for row in rows}
    out = []
    for i in range(days):
        day = (start + timedelta(days=i)).date().isoformat()
        out.append((day, by_day.get(day, UsageTotals())))
    return out

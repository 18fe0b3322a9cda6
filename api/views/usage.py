"""Tokens and cost: the caller's own (agent keys) or every agent's (board keys)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Agent
from api.base import MesaAPIView
from api.errors import error_responses
from runners.usage import UsageTotals, day_start, usage_by_agent


class TotalsOutput(serializers.Serializer):
    tokens = serializers.IntegerField(help_text="All tokens: input + output + cache read + cache write.")
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    cache_read = serializers.IntegerField()
    cache_write = serializers.IntegerField()
    cost_usd = serializers.FloatField()
    runs = serializers.IntegerField()


class AgentUsageOutput(serializers.Serializer):
    agent = serializers.CharField()
    today = TotalsOutput()
    total = TotalsOutput()
    daily_token_limit = serializers.IntegerField(allow_null=True)
    daily_cost_limit_usd = serializers.FloatField(allow_null=True)


class UsageOutput(serializers.Serializer):
    day_start = serializers.DateTimeField(help_text="Start of 'today' (midnight UTC; budgets are daily in UTC).")
    today = TotalsOutput(help_text="The caller's usage today (board keys: the whole org).")
    total = TotalsOutput()
    agents = AgentUsageOutput(many=True, help_text="One row per agent (agent keys: only the caller).")


def _totals(t: UsageTotals) -> dict[str, Any]:
    return {
        "tokens": t.tokens,
        "tokens_in": t.tokens_in,
        "tokens_out": t.tokens_out,
        "cache_read": t.cache_read,
        "cache_write": t.cache_write,
        "cost_usd": float(t.cost_usd),
        "runs": t.runs,
    }


def _sum(rows: list[UsageTotals]) -> UsageTotals:
    return UsageTotals(
        tokens_in=sum(r.tokens_in for r in rows),
        tokens_out=sum(r.tokens_out for r in rows),
        cache_read=sum(r.cache_read for r in rows),
        cache_write=sum(r.cache_write for r in rows),
        cost_usd=sum((r.cost_usd for r in rows), UsageTotals().cost_usd),
        runs=sum(r.runs for r in rows),
    )


class UsageApi(MesaAPIView):
    @extend_schema(
        operation_id="usage",
        tags=["usage"],
        summary="Tokens and cost today and in total",
        responses={200: UsageOutput, **error_responses()},
    )
    def get(self, request: Request) -> Response:
        org, me = self.org(request), self.actor(request).agent
        start = day_start()
        today, total = usage_by_agent(org, since=start), usage_by_agent(org)
        agents = [me] if me is not None else list(Agent.objects.filter(org=org).order_by("slug"))
        empty = UsageTotals()
        rows = [
            {
                "agent": a.slug,
                "today": _totals(today.get(a.pk, empty)),
                "total": _totals(total.get(a.pk, empty)),
                "daily_token_limit": a.daily_token_limit,
                "daily_cost_limit_usd": float(a.daily_cost_limit_usd) if a.daily_cost_limit_usd is not None else None,
            }
            for a in agents
        ]
        ids = [a.pk for a in agents]
        return Response(
            {
                "day_start": start.isoformat().replace("+00:00", "Z"),
                "today": _totals(_sum([today[i] for i in ids if i in today])),
                "total": _totals(_sum([total[i] for i in ids if i in total])),
                "agents": rows,
            }
        )

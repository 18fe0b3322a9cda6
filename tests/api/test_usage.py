from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from agents.models import Agent
from orgs.models import Org
from runners.models import Run
from tests.factories import make_run


def test_it_reports_the_callers_usage_today_and_in_total(
    call: Any, api_org: Org, engineer: Agent, qa: Agent, agent_key: Any
) -> None:
    make_run(engineer, status="completed", tokens_in=100, tokens_out=50, cost_usd=Decimal("0.10"))
    old = make_run(engineer, status="completed", tokens_in=1000, tokens_cache_read=5, cost_usd=Decimal("1.00"))
    Run.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    make_run(qa, status="completed", tokens_in=7, cost_usd=Decimal("9"))
    r = call("GET", "usage", agent_key(engineer))
    assert r.status_code == 200
    body = r.json()
    assert body["today"]["tokens"] == 150 and body["today"]["cost_usd"] == 0.1 and body["today"]["runs"] == 1
    assert body["total"]["tokens"] == 1155 and body["total"]["cost_usd"] == 1.1 and body["total"]["runs"] == 2
    assert [a["agent"] for a in body["agents"]] == ["engineer"]


def test_it_reports_every_agent_to_the_board(
    call: Any, api_org: Org, engineer: Agent, qa: Agent, board_key: str
) -> None:
    make_run(engineer, status="completed", tokens_in=10, cost_usd=Decimal("0.5"))
    make_run(qa, status="completed", tokens_out=5, cost_usd=Decimal("0.25"))
    body = call("GET", "usage", board_key).json()
    rows = {a["agent"]: a for a in body["agents"]}
    assert set(rows) == {"ceo", "engineer", "qa"}
    assert rows["ceo"]["today"]["tokens"] == 0 and rows["qa"]["total"]["cost_usd"] == 0.25
    assert body["today"]["tokens"] == 15 and body["total"]["cost_usd"] == 0.75


def test_it_shows_zeroes_without_runs(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    body = call("GET", "usage", agent_key(engineer)).json()
    assert body["today"] == {
        "tokens": 0,
        "tokens_in": 0,
        "tokens_out": 0,
        "cache_read": 0,
        "cache_write": 0,
        "cost_usd": 0.0,
        "runs": 0,
    }


def test_it_answers_in_a_constant_number_of_queries(
    call: Any, api_org: Org, ceo: Agent, board_key: str, django_assert_max_num_queries: Any
) -> None:
    from tests.factories import make_agent

    for n in range(20):
        agent = make_agent(api_org, slug=f"worker-{n}", reports_to=ceo)
        make_run(agent, status="completed", tokens_in=n, cost_usd=Decimal("0.01"))
    with django_assert_max_num_queries(5):  # auth + touch, today, total, agents
        assert len(call("GET", "usage", board_key).json()["agents"]) == 21

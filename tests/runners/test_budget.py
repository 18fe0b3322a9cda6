from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from approvals.models import Approval
from orgs.actors import Actor
from runners.budget import budget_remaining
from runners.dispatch import Wake, dispatch, wakes_for_event
from runners.models import Run, RunStatus
from runners.services import run_claim, run_enqueue
from tests.factories import make_agent, make_issue, make_run

# Spend is counted from midnight UTC (see tests/conftest.same_utc_day).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("same_utc_day")]


def test_it_computes_what_is_left_of_todays_budget(org: Any) -> None:
    agent = make_agent(org, runner="noop", daily_token_limit=1000, daily_cost_limit_usd="2.00")
    make_run(agent, status=RunStatus.COMPLETED, tokens_in=300, tokens_out=100, cost_usd=Decimal("0.5"))
    left = budget_remaining(agent)
    assert left.tokens == 600 and left.cost_usd == Decimal("1.5")
    assert not left.exhausted
    unlimited = make_agent(org, runner="noop")
    assert budget_remaining(unlimited).tokens is None and not budget_remaining(unlimited).exhausted


def test_it_does_not_start_an_agent_over_budget_comments_and_asks_for_a_raise_once(org: Any) -> None:
    agent = make_agent(org, slug="broke", runner="noop", daily_token_limit=100)
    make_run(agent, status=RunStatus.COMPLETED, tokens_in=100)
    first = make_issue(org, title="First", assignee=agent)
    second = make_issue(org, title="Second", assignee=agent)

    assert dispatch(Wake(agent.pk, first.pk, "task", "assigned")) is None
    assert dispatch(Wake(agent.pk, second.pk, "task", "assigned")) is None

    assert not Run.objects.filter(issue__in=[first, second]).exists()
    assert first.comments.filter(kind="system", body__contains="over its daily budget").exists()
    raises = Approval.objects.filter(kind="budget_raise", subject_agent=agent)
    assert raises.count() == 1 and raises.get().status == "pending"


@pytest.mark.django_db(transaction=True)
def test_it_checks_the_budget_again_when_a_queued_run_starts(org: Any) -> None:
    from runners.execution import execute_run

    agent = make_agent(org, slug="late", runner="noop", daily_cost_limit_usd="1.00")
    issue = make_issue(org, title="Queued before spending", assignee=agent)
    run_enqueue(agent=agent, issue=issue)
    make_run(agent, status=RunStatus.COMPLETED, cost_usd=Decimal("1.00"))  # spent meanwhile
    claimed = run_claim(worker="t:1")
    assert claimed is not None
    assert execute_run(claimed.pk) == RunStatus.BUDGET_EXCEEDED
    claimed.refresh_from_db()
    assert claimed.status == RunStatus.BUDGET_EXCEEDED and "not started" in claimed.failure_reason
    assert claimed.started_at is not None and claimed.prompt == ""


def test_it_raises_the_limit_and_redispatches_pending_work_when_a_raise_is_approved(org: Any) -> None:
    from approvals.services import approval_resolve
    from orgs.models import Event

    agent = make_agent(org, slug="broke", runner="noop", daily_token_limit=100)
    make_run(agent, status=RunStatus.COMPLETED, tokens_in=100)
    issue = make_issue(org, title="Waiting for money", assignee=agent)
    dispatch(Wake(agent.pk, issue.pk, "task", "assigned"))
    approval = Approval.objects.get(kind="budget_raise")
    assert "200 tokens" in approval.title

    approval_resolve(actor=Actor.human(label="board"), approval=approval, decision="approved")
    agent.refresh_from_db()
    # The raise is for today: the configuration is untouched, today's limit is lifted.
    assert agent.daily_token_limit == 100
    assert budget_remaining(agent).tokens == 100 and not budget_remaining(agent).exhausted
    event = Event.objects.filter(type="approval_resolved").latest("id")
    wakes = wakes_for_event(event)
    assert [(w.agent_id, w.issue_id) for w in wakes] == [(agent.pk, issue.pk)]
    assert dispatch(wakes[0]) is not None


def test_it_keeps_the_limit_when_a_raise_is_rejected(org: Any) -> None:
    from approvals.services import approval_resolve

    agent = make_agent(org, slug="broke", runner="noop", daily_cost_limit_usd="1.00")
    make_run(agent, status=RunStatus.COMPLETED, cost_usd=Decimal("1.00"))
    issue = make_issue(org, title="Still waiting", assignee=agent)
    assert dispatch(Wake(agent.pk, issue.pk, "task", "assigned")) is None
    approval = Approval.objects.get(kind="budget_raise")
    approval_resolve(actor=Actor.human(label="board"), approval=approval, decision="rejected")
    agent.refresh_from_db()
    assert agent.daily_cost_limit_usd == Decimal("1.00")
    remaining = budget_remaining(agent)
    assert remaining.limit_cost_usd == Decimal("1.00") and remaining.exhausted


def test_it_lets_a_budget_raise_end_with_its_day(org: Any) -> None:
    from datetime import timedelta

    from approvals.services import approval_resolve
    from runners.usage import day_start

    agent = make_agent(org, slug="broke", runner="noop", daily_token_limit=100)
    make_run(agent, status=RunStatus.COMPLETED, tokens_in=100)
    issue = make_issue(org, title="Waiting for money", assignee=agent)
    dispatch(Wake(agent.pk, issue.pk, "task", "assigned"))
    approval = Approval.objects.get(kind="budget_raise")
    approval_resolve(actor=Actor.human(label="board"), approval=approval, decision="approved")
    assert budget_remaining(agent).tokens == 100
    Approval.objects.filter(pk=approval.pk).update(decided_at=day_start() - timedelta(minutes=1))
    assert budget_remaining(agent).tokens == 0 and budget_remaining(agent).exhausted

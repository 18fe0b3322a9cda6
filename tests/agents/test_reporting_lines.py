"""Reporting lines: no agent reports to itself, no cycles, no managers from another org."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Agent
from agents.services import agent_update
from orgs.actors import Actor
from orgs.errors import InvalidInput
from tests.factories import make_agent, make_org

BOARD = Actor.human(label="board")


def _reports_to(agent: Agent) -> int | None:
    return Agent.objects.values_list("reports_to_id", flat=True).get(pk=agent.pk)


def test_it_refuses_an_agent_reporting_to_itself(org: Any) -> None:
    a = make_agent(org, slug="a")
    with pytest.raises(InvalidInput) as exc:
        agent_update(actor=BOARD, agent=a, reports_to=a)
    assert exc.value.code == "reporting_cycle"
    assert exc.value.extra["field"] == "reports_to"
    assert _reports_to(a) is None
    assert a.versions.count() == 1


def test_it_refuses_a_two_agent_cycle(org: Any) -> None:
    a = make_agent(org, slug="a")
    b = make_agent(org, slug="b", reports_to=a)
    with pytest.raises(InvalidInput) as exc:
        agent_update(actor=BOARD, agent=a, reports_to=b)
    assert exc.value.code == "reporting_cycle"
    assert "a cannot report to b" in exc.value.message
    assert _reports_to(a) is None


def test_it_refuses_a_longer_cycle(org: Any) -> None:
    a = make_agent(org, slug="a")
    b = make_agent(org, slug="b", reports_to=a)
    c = make_agent(org, slug="c", reports_to=b)
    d = make_agent(org, slug="d", reports_to=c)
    with pytest.raises(InvalidInput) as exc:
        agent_update(actor=BOARD, agent=a, reports_to=d)
    assert exc.value.code == "reporting_cycle"
    assert _reports_to(a) is None
    # A legal re-org in the same chain still works: d moves up to report to a.
    agent_update(actor=BOARD, agent=d, reports_to=a)
    assert _reports_to(d) == a.pk


def test_it_refuses_an_agent_reviewing_its_own_work(org: Any) -> None:
    a = make_agent(org, slug="a")
    with pytest.raises(InvalidInput) as exc:
        agent_update(actor=BOARD, agent=a, review_agent=a)
    assert exc.value.extra["field"] == "review_agent"
    assert Agent.objects.get(pk=a.pk).review_agent_id is None


def test_it_refuses_a_manager_or_reviewer_from_another_org(org: Any) -> None:
    a = make_agent(org, slug="a")
    foreign = make_agent(make_org(slug="other", issue_prefix="OTH"), slug="boss")
    with pytest.raises(InvalidInput) as exc:
        agent_update(actor=BOARD, agent=a, reports_to=foreign)
    assert exc.value.extra["field"] == "reports_to"
    with pytest.raises(InvalidInput) as exc:
        agent_update(actor=BOARD, agent=a, review_agent=foreign)
    assert exc.value.extra["field"] == "review_agent"
    with pytest.raises(InvalidInput):
        make_agent(org, slug="newcomer", reports_to=foreign)
    assert not Agent.objects.filter(org=org, slug="newcomer").exists()
    assert _reports_to(a) is None


def test_it_allows_clearing_a_manager(org: Any) -> None:
    a = make_agent(org, slug="a")
    b = make_agent(org, slug="b", reports_to=a)
    agent_update(actor=BOARD, agent=b, reports_to=None)
    assert _reports_to(b) is None


def test_it_checks_the_cycle_against_the_database_not_a_stale_manager(org: Any) -> None:
    a = make_agent(org, slug="a")
    b = make_agent(org, slug="b")
    stale_b = Agent.objects.get(pk=b.pk)  # loaded while b reports to nobody
    agent_update(actor=BOARD, agent=b, reports_to=a)
    with pytest.raises(InvalidInput) as exc:
        agent_update(actor=BOARD, agent=a, reports_to=stale_b)
    assert exc.value.code == "reporting_cycle"
    assert _reports_to(a) is None


@pytest.mark.django_db(transaction=True)
def test_it_never_closes_a_cycle_under_concurrent_reorgs() -> None:
    from tests.orgs.threads import run_concurrently

    org = make_org()
    pairs = [(make_agent(org, slug=f"x{i}"), make_agent(org, slug=f"y{i}")) for i in range(3)]

    def reorg(n: int) -> None:
        x, y = pairs[n // 2]
        agent, manager = (x, y) if n % 2 else (y, x)
        try:
            agent_update(actor=BOARD, agent=Agent.objects.get(pk=agent.pk), reports_to=manager)
        except InvalidInput as exc:
            assert exc.code == "reporting_cycle"

    _, errors = run_concurrently(reorg, threads=2 * len(pairs))
    assert errors == []
    for x, y in pairs:
        lines = {_reports_to(x), _reports_to(y)}
        assert lines != {x.pk, y.pk}, "x and y report to each other"
        assert len([v for v in (_reports_to(x), _reports_to(y)) if v]) == 1

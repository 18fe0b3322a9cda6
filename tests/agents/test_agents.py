"""Creating agents: slugs, validation, the audit trail."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from agents.models import Agent
from agents.services import agent_create
from orgs.actors import Actor
from orgs.errors import Conflict, InvalidInput
from orgs.models import Activity, Event
from tests.factories import make_agent, make_org

BOARD = Actor.human(label="alice")


def test_it_creates_an_agent_with_its_event_and_activity(org: Any) -> None:
    agent = agent_create(
        actor=BOARD,
        org=org,
        slug=" Dev-1 ",
        name="Dev One",
        archetype="backend",
        runner="codex",
        daily_cost_limit_usd=1.5,
        disallowed_tools=[" Bash ", ""],
        env={"LOG": 1},
    )
    row = Agent.objects.get(pk=agent.pk)
    assert (row.slug, row.name, row.archetype, row.runner) == ("dev-1", "Dev One", "backend", "codex")
    assert row.daily_cost_limit_usd == Decimal("1.50")
    assert (row.disallowed_tools, row.env) == (["Bash"], {"LOG": "1"})
    event = Event.objects.filter(type="agent_created").get()
    assert event.data == {"id": agent.pk, "slug": "dev-1", "name": "Dev One", "status": "active"}
    assert Activity.objects.filter(verb="created", object_type="agent", actor_label="alice").exists()


def test_it_refuses_a_duplicate_slug_in_the_same_org_only(org: Any) -> None:
    make_agent(org, slug="dev")
    with pytest.raises(Conflict) as exc:
        make_agent(org, slug="DEV")
    assert exc.value.code == "duplicate"
    assert make_agent(make_org(slug="other"), slug="dev").slug == "dev"
    assert Agent.objects.filter(org=org).count() == 1


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"slug": "-bad"}, "slug"),
        ({"slug": "has space"}, "slug"),
        ({"archetype": "wizard"}, "archetype"),
        ({"runner": "skynet"}, "runner"),
        ({"heartbeat_interval_s": 5}, "heartbeat_interval_s"),
        ({"daily_token_limit": -1}, "daily_token_limit"),
        ({"daily_cost_limit_usd": "lots"}, "daily_cost_limit_usd"),
        ({"disallowed_tools": "Bash"}, "disallowed_tools"),
        ({"env": {"MESA_RUN_KEY": "x"}}, "env"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_it_refuses_bad_configuration_naming_the_field(org: Any, kw: dict[str, Any], field: str) -> None:
    kw.setdefault("slug", "dev")
    with pytest.raises(InvalidInput) as exc:
        agent_create(actor=BOARD, org=org, **kw)
    assert exc.value.extra["field"] == field
    assert not Agent.objects.filter(org=org).exists()

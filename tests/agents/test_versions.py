"""Agent configuration versions: every effective change is a version; any version can be restored."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from agents.models import CONFIG_FIELDS, Agent, AgentStatus, AgentVersion
from agents.services import agent_pause, agent_resume, agent_rollback, agent_update
from orgs.actors import Actor
from orgs.errors import Forbidden, InvalidInput, NotFound
from orgs.models import Activity, Event
from tests.factories import make_agent, make_user

BOARD = Actor.human(label="board")
# Setting a working dir is the instance operator's (tests/security/test_code_running_settings.py).
OPERATOR = Actor.human(label="root", operator=True)


def _config(agent: Agent) -> dict[str, Any]:
    row = Agent.objects.get(pk=agent.pk)
    out: dict[str, Any] = {}
    for field in CONFIG_FIELDS:
        out[field] = getattr(row, f"{field}_id") if field in ("reports_to", "review_agent") else getattr(row, field)
    return out


def test_it_stores_creation_as_version_one(org: Any) -> None:
    agent = make_agent(org, slug="dev", max_turns=12)
    version = agent.versions.get()
    assert version.number == 1
    assert version.changes == {}
    assert version.note == "created"
    assert version.config["max_turns"] == 12
    assert set(version.config) == set(CONFIG_FIELDS)
    assert Agent.objects.get(pk=agent.pk).config_version == 1


def test_it_records_each_change_with_its_diff_and_actor(org: Any) -> None:
    ceo = make_agent(org, slug="ceo", archetype="ceo")
    agent = make_agent(org, slug="dev")
    user = make_user(username="alice")
    agent_update(actor=Actor.human(user), agent=agent, max_turns=10, model="big-model", note="tune")
    v2 = AgentVersion.objects.get(agent=agent, number=2)
    assert v2.changes == {"max_turns": [40, 10], "model": ["", "big-model"]}
    assert v2.actor_user == user and v2.actor_label == "alice" and v2.actor_agent is None
    assert v2.note == "tune"
    assert v2.config["max_turns"] == 10 and v2.config["model"] == "big-model"

    agent_update(actor=Actor.for_agent(ceo), agent=agent, reports_to=ceo, daily_cost_limit_usd="2.5")
    v3 = AgentVersion.objects.get(agent=agent, number=3)
    assert v3.changes == {"reports_to": [None, ceo.pk], "daily_cost_limit_usd": [None, "2.50"]}
    assert v3.actor_agent == ceo and v3.actor_label == "ceo"
    assert Agent.objects.get(pk=agent.pk).config_version == 3

    activity = Activity.objects.filter(verb="updated", object_type="agent").first()
    assert activity is not None and activity.details["changes"] == v3.changes
    event = Event.objects.filter(type="agent_updated").last()
    assert event is not None and event.data["slug"] == "dev"


def test_it_makes_no_version_for_a_no_op_update(org: Any) -> None:
    agent = make_agent(org, slug="dev", max_turns=12, model="m")
    events = Event.objects.count()
    agent_update(actor=BOARD, agent=agent, max_turns=12, model=" m ", name=agent.name)
    assert agent.versions.count() == 1
    assert Event.objects.count() == events


def test_it_rejects_bad_values_without_writing(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    before = Agent.objects.filter(pk=agent.pk).values().get()
    for bad in ({"max_turns": 0}, {"runner": "skynet"}, {"archetype": "nope"}, {"env": {"MESA_API_KEY": "x"}}):
        with pytest.raises(InvalidInput):
            agent_update(actor=BOARD, agent=agent, **bad)
    with pytest.raises(InvalidInput):
        agent_update(actor=BOARD, agent=agent, colour="blue")
    assert agent.versions.count() == 1
    after = Agent.objects.filter(pk=agent.pk).values().get()
    assert after == before  # the row itself is untouched, not just the version history


def test_it_rolls_back_every_field_as_a_new_version(org: Any) -> None:
    ceo = make_agent(org, slug="ceo", archetype="ceo")
    qa = make_agent(org, slug="qa", archetype="qa")
    agent = make_agent(org, slug="dev")
    original = _config(agent)
    agent_update(
        actor=OPERATOR,
        agent=agent,
        name="Renamed",
        archetype="frontend",
        runner="codex",
        sandbox="container",
        terminal="pty",
        egress="none",
        container_image="localhost/w:1",
        credential_mounts=["codex"],
        codex_mcp=True,
        model="gpt",
        working_dir="/tmp/w",
        base_branch="dev",
        ship_mode="pull_request",
        reports_to=ceo,
        review_agent=qa,
        max_turns=7,
        timeout_s=60,
        heartbeat_enabled=True,
        heartbeat_interval_s=30,
        status=AgentStatus.PAUSED,
        daily_token_limit=1000,
        daily_cost_limit_usd=Decimal("3.25"),
        disallowed_tools=["Bash"],
        env={"FOO": "bar"},
    )
    changed = _config(agent)
    assert all(changed[f] != original[f] for f in CONFIG_FIELDS)  # the update touched every field

    rolled = agent_rollback(actor=OPERATOR, agent=agent, version=1)  # back to the host sandbox
    # env is the one field a rollback leaves alone: versions keep its names, never its values.
    assert _config(rolled) == {**original, "env": {"FOO": "bar"}}
    v3 = AgentVersion.objects.get(agent=agent, number=3)
    assert v3.note == "rollback to v1"
    assert set(v3.changes) == set(CONFIG_FIELDS) - {"env"}
    assert v3.changes["reports_to"] == [ceo.pk, None]

    with pytest.raises(Forbidden):  # a rollback cannot bring back an operator-only setting either
        agent_rollback(actor=BOARD, agent=agent, version=2)
    agent_rollback(actor=OPERATOR, agent=agent, version=2)
    assert _config(agent) == changed
    assert agent.versions.count() == 4


def test_it_refuses_a_rollback_that_would_now_make_a_cycle(org: Any) -> None:
    a = make_agent(org, slug="a")
    b = make_agent(org, slug="b")
    agent_update(actor=BOARD, agent=a, reports_to=b)  # a v2: reports to b
    agent_update(actor=BOARD, agent=a, reports_to=None)  # a v3
    agent_update(actor=BOARD, agent=b, reports_to=a)  # b now reports to a
    with pytest.raises(InvalidInput) as exc:
        agent_rollback(actor=BOARD, agent=a, version=2)
    assert exc.value.code == "reporting_cycle"
    assert Agent.objects.get(pk=a.pk).reports_to_id is None
    assert a.versions.count() == 3


def test_it_reports_an_unknown_version(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    with pytest.raises(NotFound):
        agent_rollback(actor=BOARD, agent=agent, version=9)


def test_it_versions_pause_and_resume(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    agent_pause(actor=BOARD, agent=agent)
    assert Agent.objects.get(pk=agent.pk).status == AgentStatus.PAUSED
    agent_resume(actor=BOARD, agent=agent)
    assert Agent.objects.get(pk=agent.pk).status == AgentStatus.ACTIVE
    notes = list(agent.versions.order_by("number").values_list("note", flat=True))
    assert notes == ["created", "paused", "resumed"]


def test_it_keeps_liveness_written_meanwhile_when_updating_a_stale_copy(org: Any) -> None:
    from django.utils import timezone

    agent = make_agent(org, slug="dev")
    now = timezone.now()
    Agent.objects.filter(pk=agent.pk).update(last_seen_at=now, last_seen_note="alive")
    agent_update(actor=BOARD, agent=agent, max_turns=3)
    row = Agent.objects.get(pk=agent.pk)
    assert row.last_seen_at == now and row.last_seen_note == "alive" and row.max_turns == 3


def test_it_refuses_agent_changes_from_an_agent_of_another_org(org: Any) -> None:
    from agents.services import agent_create
    from tests.factories import make_ceo, make_org

    outsider = Actor.for_agent(make_ceo(make_org(slug="other")))
    agent = make_agent(org, slug="dev")
    with pytest.raises(Forbidden):
        agent_update(actor=outsider, agent=agent, max_turns=1)
    with pytest.raises(Forbidden):
        agent_rollback(actor=outsider, agent=agent, version=1)
    with pytest.raises(Forbidden):
        agent_create(actor=outsider, org=org, slug="mole")
    assert list(Agent.objects.filter(org=org).values_list("slug", "max_turns")) == [("dev", 40)]
    assert agent.versions.count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_numbers_versions_without_gaps_under_concurrent_edits() -> None:
    from tests.factories import make_org
    from tests.orgs.threads import run_concurrently

    agent = make_agent(make_org(), slug="dev")
    results, errors = run_concurrently(
        lambda n: agent_update(actor=BOARD, agent=Agent.objects.get(pk=agent.pk), max_turns=100 + n).config_version
    )
    assert errors == []
    numbers = list(agent.versions.order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, 10))
    assert sorted(results) == list(range(2, 10))
    assert Agent.objects.get(pk=agent.pk).config_version == 9

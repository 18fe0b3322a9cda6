from __future__ import annotations

from typing import Any

from agents.models import Agent, AgentStatus, AgentVersion
from orgs.models import Activity, Event, Org
from runners.models import Run
from tests.factories import make_run


def test_it_lists_agents(call: Any, api_org: Org, ceo: Agent, engineer: Agent, agent_key: Any) -> None:
    r = call("GET", "agents", agent_key(engineer))
    assert r.status_code == 200
    rows = {a["slug"]: a for a in r.json()["results"]}
    assert set(rows) == {"ceo", "engineer", "qa"} and r.json()["count"] == 3
    assert rows["engineer"]["reports_to"] == "ceo" and rows["engineer"]["review_agent"] == "qa"
    assert rows["ceo"]["is_ceo"] is True and rows["engineer"]["is_ceo"] is False
    assert "env" not in rows["engineer"]


def test_it_shows_me_to_agents_only(call: Any, api_org: Org, engineer: Agent, agent_key: Any, board_key: str) -> None:
    from agents.services import agent_update
    from orgs.actors import Actor

    agent_update(actor=Actor.system(), agent=engineer, env={"TOKEN": "secret-value"}, daily_token_limit=5000)
    r = call("GET", "agents/me", agent_key(engineer))
    assert r.status_code == 200
    body = r.json()
    assert body["slug"] == "engineer" and body["daily_token_limit"] == 5000 and body["env_keys"] == ["TOKEN"]
    assert "secret-value" not in r.content.decode()
    r = call("GET", "agents/me", board_key)
    assert r.status_code == 400 and r.json()["code"] == "not_an_agent"


def test_it_gets_one_agent_or_404(call: Any, api_org: Org, engineer: Agent, board_key: str) -> None:
    assert call("GET", "agents/engineer", board_key).json()["reports_to"] == "ceo"
    assert call("GET", "agents/ghost", board_key).status_code == 404


def test_it_records_a_heartbeat(call: Any, api_org: Org, engineer: Agent, agent_key: Any, board_key: str) -> None:
    r = call("POST", "heartbeat", agent_key(engineer), {"note": "  running   the tests "})
    assert r.status_code == 200, r.json()
    assert r.json()["last_seen_note"] == "running the tests" and r.json()["last_seen_at"]
    engineer.refresh_from_db()
    assert engineer.last_seen_at is not None and engineer.last_seen_note == "running the tests"
    assert Event.objects.filter(type="agent_heartbeat", data__slug="engineer").exists()
    assert call("POST", "heartbeat", agent_key(engineer)).status_code == 200  # the note is optional
    assert call("POST", "heartbeat", board_key, {"note": "x"}).json()["code"] == "not_an_agent"
    assert call("POST", "heartbeat", agent_key(engineer), {"note": "x" * 301}).status_code == 400


def test_it_lets_the_board_create_an_agent(call: Any, api_org: Org, ceo: Agent, board_key: str) -> None:
    r = call(
        "POST",
        "agents",
        board_key,
        {
            "slug": "writer",
            "name": "Tech Writer",
            "archetype": "backend",
            "runner": "noop",
            "reports_to": "ceo",
            "daily_token_limit": 100000,
            "daily_cost_limit_usd": "2.50",
            "disallowed_tools": ["WebFetch"],
        },
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["slug"] == "writer" and body["reports_to"] == "ceo" and body["daily_cost_limit_usd"] == 2.5
    assert Agent.objects.get(org=api_org, slug="writer").daily_token_limit == 100000
    assert Activity.objects.filter(verb="created", object_type="agent").exists()
    assert Event.objects.filter(type="agent_created", data__slug="writer").exists()
    assert call("POST", "agents", board_key, {"slug": "writer"}).status_code == 409


def test_it_refuses_agent_writes_from_agents(
    call: Any, api_org: Org, ceo: Agent, engineer: Agent, agent_key: Any
) -> None:
    raw = agent_key(ceo)  # even the CEO: agents do not rewrite agents through the API (it proposes hires)
    assert call("POST", "agents", agent_key(engineer), {"slug": "x"}).json()["code"] == "board_only"
    assert call("PATCH", "agents/engineer", raw, {"max_turns": 3}).status_code == 403
    assert call("POST", "agents/engineer/pause", raw).status_code == 403
    assert call("POST", "agents/engineer/resume", raw).status_code == 403
    engineer.refresh_from_db()
    assert engineer.max_turns != 3 and engineer.status == AgentStatus.ACTIVE


def test_it_turns_the_ceos_hire_into_an_approval_and_creates_the_agent_when_it_is_approved(
    call: Any, api_org: Org, ceo: Agent, engineer: Agent, agent_key: Any, board_key: str
) -> None:
    spec = {
        "slug": "data-eng",
        "name": "Data Engineer",
        "archetype": "backend",
        "reports_to": "ceo",
        "max_turns": 7,
        "daily_cost_limit_usd": "4.50",
    }
    answer = call("POST", "agents", agent_key(ceo), spec)
    assert answer.status_code == 202, answer.content
    approval = answer.json()
    assert approval["kind"] == "agent_add" and approval["status"] == "pending"
    assert not Agent.objects.filter(slug="data-eng").exists()  # nothing until a human approves
    # A bad proposal fails at once, not at approval time.
    assert call("POST", "agents", agent_key(ceo), {**spec, "slug": "other", "reports_to": "nobody"}).status_code == 400
    assert call("POST", "agents", agent_key(ceo), {**spec, "slug": "engineer"}).json()["code"] == "slug_taken"

    decided = call("POST", f"approvals/{approval['id']}/resolve", board_key, {"decision": "approved"})
    assert decided.status_code == 200, decided.content
    hired = Agent.objects.get(org=api_org, slug="data-eng")
    assert (hired.name, hired.archetype, hired.reports_to, hired.max_turns) == ("Data Engineer", "backend", ceo, 7)
    assert str(hired.daily_cost_limit_usd) == "4.50"


def test_it_updates_config_and_budgets_as_new_versions(
    call: Any, api_org: Org, engineer: Agent, designer: Agent, board_key: str
) -> None:
    versions = AgentVersion.objects.filter(agent=engineer).count()
    r = call(
        "PATCH",
        "agents/engineer",
        board_key,
        {
            "daily_token_limit": 2000,
            "daily_cost_limit_usd": 1.25,
            "review_agent": "designer",
            "reports_to": "ceo",
            "note": "tighter",
        },
    )
    assert r.status_code == 200, r.json()
    assert r.json()["review_agent"] == "designer" and r.json()["daily_cost_limit_usd"] == 1.25
    engineer.refresh_from_db()
    assert engineer.daily_token_limit == 2000 and engineer.review_agent == designer
    assert AgentVersion.objects.filter(agent=engineer).count() == versions + 1
    r = call("PATCH", "agents/engineer", board_key, {"daily_token_limit": None, "review_agent": None})
    assert r.status_code == 200 and r.json()["daily_token_limit"] is None and r.json()["review_agent"] is None


def test_it_refuses_bad_agent_config_naming_the_field(call: Any, api_org: Org, engineer: Agent, board_key: str) -> None:
    for payload, field in (
        ({"reports_to": "engineer"}, "reports_to"),
        ({"reports_to": "ghost"}, "reports_to"),
        ({"daily_token_limit": -1}, "daily_token_limit"),
        ({"daily_token_limit": "lots"}, "daily_token_limit"),
        ({"runner": "skynet"}, "runner"),
        ({"terminal": "vt100"}, "terminal"),
        ({"env": {"MESA_API_KEY": "x"}}, "env"),
        ({"max_turns": 0}, "max_turns"),
        ({"favourite_colour": "red"}, "favourite_colour"),
    ):
        r = call("PATCH", "agents/engineer", board_key, payload)
        assert r.status_code == 400, payload
        assert r.json()["field"] == field, (payload, r.json())


def test_it_switches_an_agent_to_a_pty_terminal_as_a_new_version(
    call: Any, api_org: Org, engineer: Agent, board_key: str
) -> None:
    r = call("PATCH", "agents/engineer", board_key, {"terminal": "pty"})
    assert r.status_code == 200 and r.json()["terminal"] == "pty"
    engineer.refresh_from_db()
    version = engineer.versions.first()
    assert engineer.terminal == "pty" and version is not None and version.changes["terminal"] == ["off", "pty"]


def test_it_pauses_and_resumes(call: Any, api_org: Org, engineer: Agent, board_key: str) -> None:
    r = call("POST", "agents/engineer/pause", board_key)
    assert r.status_code == 200 and r.json()["status"] == "paused"
    engineer.refresh_from_db()
    assert engineer.status == AgentStatus.PAUSED
    assert call("POST", "agents/engineer/resume", board_key).json()["status"] == "active"
    assert Event.objects.filter(type="agent_updated", data__slug="engineer", data__status="paused").exists()
    assert call("POST", "agents/ghost/pause", board_key).status_code == 404


def test_it_lists_agents_in_a_constant_number_of_queries(
    call: Any, api_org: Org, ceo: Agent, board_key: str, django_assert_max_num_queries: Any
) -> None:
    from tests.factories import make_agent

    for n in range(25):
        make_agent(api_org, slug=f"worker-{n}", reports_to=ceo)
    with django_assert_max_num_queries(3):
        assert call("GET", "agents", board_key).json()["count"] == 26


def test_it_pauses_an_agent_and_stops_its_runs_when_asked(
    call: Any, api_org: Org, engineer: Agent, board_key: str
) -> None:
    run = make_run(engineer, status="running")
    assert call("POST", "agents/engineer/pause", board_key).status_code == 200
    assert not Run.objects.get(pk=run.pk).cancel_requested  # by default it finishes
    r = call("POST", "agents/engineer/pause", board_key, {"stop_current": True})
    assert r.status_code == 200 and r.json()["status"] == "paused"
    assert Run.objects.get(pk=run.pk).cancel_requested
    assert call("POST", "agents/engineer/pause", board_key, {"stop_current": "yes"}).status_code == 400

"""Replay of issue 16 item 1: a board key of one org set the command runner and ran a shell on the host.

Code-running settings (the command runner, a working dir, env names that change the loader or PATH)
are the instance operator's: an API key gets 403 with the reason and nothing changes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from agents.keys import key_create
from agents.models import Agent, AgentVersion, KeyKind
from agents.services import agent_update
from orgs.actors import Actor
from orgs.errors import Forbidden
from tests.factories import make_agent, make_org

SYSTEM = Actor.system("tests")


def _board_key(org: Any) -> str:
    _, raw = key_create(actor=SYSTEM, org=org, kind=KeyKind.BOARD, name="tests")
    return raw


def _send(client: Client, method: str, path: str, key: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(
        "/api/v1/" + path,
        data=json.dumps(body),
        content_type="application/json",
        headers={"authorization": f"Bearer {key}"},
    )


@pytest.mark.parametrize(
    "change",
    [
        {"runner": "command", "model": "sh -c 'cp mesa.db /tmp/stolen.db'"},
        {"working_dir": "/"},
        {"env": {"PATH": "/tmp/evil:/usr/bin"}},
        {"env": {"LD_PRELOAD": "/tmp/evil.so"}},
        {"env": {"pythonpath": "/tmp/evil"}},
        {"env": {"ANTHROPIC_BASE_URL": "http://exfil.example"}},  # where a container run's egress may go
    ],
)
def test_it_refuses_code_running_settings_to_a_board_key(db: None, client: Client, change: dict[str, Any]) -> None:
    make_org(name="Org A", slug="org-a", issue_prefix="OA")
    org_b = make_org(name="Org B", slug="org-b", issue_prefix="OB")
    agent = make_agent(org_b, slug="worker", runner="noop")
    before = (agent.runner, agent.model, agent.working_dir, agent.env, AgentVersion.objects.count())

    r = _send(client, "patch", "agents/worker", _board_key(org_b), change)

    assert r.status_code == 403, r.content
    assert r.json()["code"] == "operator_only" and "instance operator" in r.json()["error"]
    agent.refresh_from_db()
    assert (agent.runner, agent.model, agent.working_dir, agent.env, AgentVersion.objects.count()) == before


def test_it_refuses_the_host_sandbox_to_a_board_key(db: None, client: Client) -> None:
    org_b = make_org(name="Org B", slug="org-b", issue_prefix="OB")
    agent = make_agent(org_b, slug="worker", runner="noop", sandbox="container")
    r = _send(client, "patch", "agents/worker", _board_key(org_b), {"sandbox": "host"})
    assert r.status_code == 403 and "host sandbox" in r.json()["error"]
    agent.refresh_from_db()
    assert agent.sandbox == "container"


def test_it_refuses_creating_a_command_agent_with_a_board_key(db: None, client: Client) -> None:
    org_b = make_org(name="Org B", slug="org-b", issue_prefix="OB")
    r = _send(client, "post", "agents", _board_key(org_b), {"slug": "shell", "runner": "command", "model": "id"})
    assert r.status_code == 403 and r.json()["code"] == "operator_only"
    assert not Agent.objects.filter(slug="shell").exists()


def test_it_lets_a_board_key_set_harmless_env_and_the_operator_everything(db: None, client: Client) -> None:
    org_b = make_org(name="Org B", slug="org-b", issue_prefix="OB")
    agent = make_agent(org_b, slug="worker", runner="noop")
    r = _send(client, "patch", "agents/worker", _board_key(org_b), {"env": {"FEATURE_FLAG": "1"}})
    assert r.status_code == 200, r.content
    with pytest.raises(Forbidden):
        agent_update(actor=Actor.human(label="someone"), agent=agent, runner="command")
    agent_update(actor=Actor.human(label="root", operator=True), agent=agent, runner="command", model="true")
    agent_update(actor=SYSTEM, agent=agent, env={"FEATURE_FLAG": "1", "PATH": "/usr/bin"}, working_dir="/srv")
    agent.refresh_from_db()
    assert agent.runner == "command" and agent.env["PATH"] == "/usr/bin" and agent.working_dir == "/srv"


def test_it_runs_nothing_on_the_host_until_the_operator_allows_host_runs(db: None, settings: Any) -> None:
    from runners.execution import execute_run
    from runners.models import RunStatus
    from runners.readiness import HOST_RUNS_OFF, agent_problem
    from tests.factories import make_run

    settings.MESA_ALLOW_HOST_RUNS = False  # login mode, the operator has not turned host runs on
    org = make_org(name="Org B", slug="org-b", issue_prefix="OB")
    agent = make_agent(org, slug="hosted", runner="command", sandbox="host", model="touch /tmp/mesa-host-ran")
    assert agent_problem(agent) == HOST_RUNS_OFF  # the dispatcher queues nothing for it
    run = make_run(agent, status=RunStatus.RUNNING)
    assert execute_run(run.pk) == RunStatus.FAILED
    run.refresh_from_db()
    assert run.failure_reason == HOST_RUNS_OFF and run.pid is None

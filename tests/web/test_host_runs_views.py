"""Settings › Runners: host runs in login mode, off until the instance operator (a superuser) turns them on."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orgs.actors import Actor
from orgs.errors import Forbidden
from orgs.models import OrgRole
from orgs.services import membership_set
from runners.execution import execute_run
from runners.models import Run, RunStatus, SchedulerState
from runners.readiness import HOST_RUNS_OFF, agent_problem, host_runs_allowed
from runners.services import host_runs_set
from tests.factories import SYSTEM, make_agent, make_run, make_user

URL = "/settings/runners/host-runs"


@pytest.fixture
def login_mode(settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = False
    settings.MESA_ALLOW_HOST_RUNS = False  # the default of login mode when the environment does not set it
    settings.MESA_HOST_RUNS_PINNED = False


def _login(client: Client, org: Any, **kw: Any) -> Any:
    user = make_user(**kw)
    membership_set(actor=SYSTEM, org=org, user=user, role=OrgRole.OWNER)
    client.force_login(user)
    return user


def test_it_lets_the_superuser_turn_host_runs_on_and_off(client: Client, org: Any, login_mode: None) -> None:
    agent = make_agent(org, slug="hosted", runner="command", sandbox="host", model="true")
    _login(client, org, is_superuser=True)
    page = client.get("/settings/runners/").content.decode()
    assert "Host runs are <strong>off</strong>" in page and "Turn host runs on" in page
    assert agent_problem(agent) == HOST_RUNS_OFF

    response = client.post(URL, {"allowed": "1"})

    assert response.status_code == 302 and response.headers["location"] == "/settings/runners/"
    assert host_runs_allowed() and agent_problem(agent) == ""
    page = client.get("/settings/runners/").content.decode()
    assert "Host runs are <strong>on</strong>" in page and "Turn host runs off" in page
    run = make_run(agent, status=RunStatus.RUNNING)
    assert execute_run(run.pk) == RunStatus.COMPLETED  # `true` on the host, now allowed

    client.post(URL, {"allowed": "0"})
    assert not host_runs_allowed() and agent_problem(agent) == HOST_RUNS_OFF
    state = SchedulerState.objects.get(pk=1)
    assert state.host_runs is False and state.host_runs_by


def test_it_refuses_the_switch_to_an_org_owner_who_is_not_the_operator(
    client: Client, org: Any, login_mode: None
) -> None:
    agent = make_agent(org, slug="hosted", runner="command", sandbox="host", model="true")
    _login(client, org)
    page = client.get("/settings/runners/").content.decode()
    assert "Only the instance operator" in page and "Turn host runs on" not in page

    response = client.post(URL, {"allowed": "1"}, follow=True)

    assert "Only the instance operator" in response.content.decode()
    assert not host_runs_allowed()
    run = make_run(agent, status=RunStatus.RUNNING)
    assert execute_run(run.pk) == RunStatus.FAILED
    assert Run.objects.get(pk=run.pk).failure_reason == HOST_RUNS_OFF


def test_it_refuses_the_switch_to_an_agent_or_key_actor(org: Any, login_mode: None) -> None:
    agent = make_agent(org, slug="ceo")
    with pytest.raises(Forbidden) as refused:
        host_runs_set(actor=Actor.for_agent(agent), allowed=True)
    assert refused.value.code == "operator_only"
    assert not host_runs_allowed()


def test_it_lets_the_environment_override_the_switch(org: Any, login_mode: None, settings: Any) -> None:
    host_runs_set(actor=Actor.human(label="root", operator=True), allowed=True)
    assert host_runs_allowed()
    settings.MESA_HOST_RUNS_PINNED = True  # MESA_ALLOW_HOST_RUNS=0 in the environment
    assert not host_runs_allowed()
    settings.MESA_ALLOW_HOST_RUNS = True  # MESA_ALLOW_HOST_RUNS=1
    host_runs_set(actor=Actor.human(label="root", operator=True), allowed=False)
    assert host_runs_allowed()


def _queries_for_agents_page(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/agents/")
    assert page.status_code == 200 and "needs setup" in page.content.decode()
    return len(ctx.captured_queries)


def test_it_reads_the_host_runs_switch_once_per_page_not_per_agent(client: Client, org: Any, login_mode: None) -> None:
    """In login mode every host agent's row asks whether host runs are allowed: one query per page."""
    for n in range(2):
        make_agent(org, slug=f"host-{n}", runner="command", sandbox="host", model="true")
    _login(client, org)
    few = _queries_for_agents_page(client)
    for n in range(2, 8):
        make_agent(org, slug=f"host-{n}", runner="command", sandbox="host", model="true")
    assert _queries_for_agents_page(client) == few

from __future__ import annotations

from decimal import Decimal
from typing import Any

from agents.models import Agent
from runners.models import Run
from tests.factories import make_agent, make_issue, make_issues_bulk, make_org, make_run


def test_it_lists_agents_with_live_state(client: Any, org: Any, django_assert_max_num_queries: Any) -> None:
    boss = make_agent(org, slug="boss", name="Boss")
    worker = make_agent(org, slug="worker", name="Worker", reports_to=boss)
    issue = make_issue(org, title="Busy", assignee=worker)
    make_run(worker, issue=issue, status="running")
    make_issues_bulk(org, 1000, assignee=worker, statuses=["todo"])
    with django_assert_max_num_queries(12):
        response = client.get("/agents/")
    body = response.content.decode()
    assert "Boss" in body and "Worker" in body and "running" in body and issue.key in body
    assert "1001" in body  # open issues of the worker


def test_it_creates_an_agent_and_shows_errors_inline(client: Any, org: Any) -> None:
    response = client.post("/agents/", {"slug": "new-dev", "name": "New Dev", "archetype": "backend", "runner": "noop"})
    assert response.status_code == 302 and response["Location"] == "/agents/new-dev/"
    response = client.post("/agents/", {"slug": "Bad Slug!", "name": "X", "archetype": "backend", "runner": "noop"})
    assert response.status_code == 400 and "slug must be" in response.content.decode()
    assert Agent.objects.filter(org=org).count() == 1


def test_it_draws_the_org_chart(client: Any, org: Any) -> None:
    boss = make_agent(org, slug="boss", name="Boss")
    make_agent(org, slug="worker", name="Worker", reports_to=boss)
    body = client.get("/agents/chart/").content.decode()
    assert body.index("Boss") < body.index("Worker")
    assert body.count("<ul") >= 2  # the worker is nested under the boss


def test_it_renders_the_agent_page(client: Any, org: Any, django_assert_max_num_queries: Any) -> None:
    agent = make_agent(org, slug="worker", name="Worker", daily_cost_limit_usd=Decimal("5"))
    issue = make_issue(org, title="In the inbox", assignee=agent)
    make_run(agent, issue=issue, status="completed", cost_usd=Decimal("1.25"), tokens_in=2000)
    with django_assert_max_num_queries(20):
        response = client.get("/agents/worker/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "In the inbox" in body and "$1.25" in body and "of $5.00" in body
    assert '<svg class="chart"' in body and "v1" in body and 'id="agent-config"' in body
    assert client.get("/agents/nobody/").status_code == 404


def test_it_saves_the_configuration_as_a_new_version_and_rolls_back(client: Any, org: Any) -> None:
    boss = make_agent(org, slug="boss")
    agent = make_agent(org, slug="worker", model="small")
    response = client.post(
        "/agents/worker/edit",
        {
            "name": "Worker",
            "archetype": "backend",
            "runner": "noop",
            "model": "large",
            "reports_to": "boss",
            "max_turns": "12",
            "timeout_s": "60",
            "heartbeat_interval_s": "300",
            "daily_cost_limit_usd": "3.50",
            "disallowed_tools": "Bash, WebFetch",
        },
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="agent-config",
    )
    assert response.status_code == 200 and "Saved as v2" in response.content.decode()
    agent.refresh_from_db()
    assert (agent.model, agent.reports_to, agent.max_turns, agent.daily_cost_limit_usd) == (
        "large",
        boss,
        12,
        Decimal("3.50"),
    )
    assert agent.disallowed_tools == ["Bash", "WebFetch"]
    client.post("/agents/worker/rollback", {"version": "1"})
    agent.refresh_from_db()
    assert agent.model == "small" and agent.reports_to is None and agent.config_version == 3


def test_the_operator_chooses_the_sandbox_and_the_egress_in_the_form(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="worker", sandbox="host")
    body = client.get("/agents/worker/").content.decode()
    assert '<select name="sandbox">' in body and '<option value="model_api" selected>' in body
    response = client.post(
        "/agents/worker/edit",
        {"name": "Worker", "sandbox": "container", "egress": "none"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="agent-config",
    )
    assert response.status_code == 200, response.content
    agent.refresh_from_db()
    assert (agent.sandbox, agent.egress) == ("container", "none")


def test_it_refuses_a_bad_configuration_inline(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="worker")
    response = client.post(
        "/agents/worker/edit",
        {"name": "Worker", "max_turns": "many"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="agent-config",
    )
    assert response.status_code == 400 and "max_turns must be a whole number" in response.content.decode()
    agent.refresh_from_db()
    assert agent.config_version == 1


def test_it_pauses_resumes_and_wakes_an_agent(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="worker")
    client.post("/agents/worker/pause")
    agent.refresh_from_db()
    assert agent.status == "paused"
    client.post("/agents/worker/resume")
    agent.refresh_from_db()
    assert agent.status == "active"
    response = client.post("/agents/worker/wake", follow=True)
    run = Run.objects.get(agent=agent)
    assert run.status == "queued" and f"Run #{run.pk} queued" in response.content.decode()


def test_it_hides_agents_of_another_org(client: Any, org: Any) -> None:
    other = make_org()
    foreign = make_agent(other, slug="foreign")
    assert client.get("/agents/foreign/").status_code == 404
    assert client.post("/agents/foreign/pause").status_code == 404
    assert client.post("/agents/foreign/wake").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "active" and not Run.objects.filter(agent=foreign).exists()


def test_it_refuses_an_unknown_manager_instead_of_creating_a_root_agent(client: Any, org: Any) -> None:

    response = client.post(
        "/agents/", {"slug": "typo-boss", "name": "Typo", "archetype": "ceo", "runner": "noop", "reports_to": "nobody"}
    )
    assert "There is no agent" in response.content.decode()
    assert not Agent.objects.filter(org=org, slug="typo-boss").exists()


def test_it_asks_whether_pausing_stops_the_current_run(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="busy", name="Busy")
    assert 'data-testid="pause-stop"' not in client.get("/agents/busy/").content.decode()  # no run: plain Pause
    run = make_run(agent, status="running")
    page = client.get("/agents/busy/").content.decode()
    assert 'data-testid="pause-stop"' in page and 'data-testid="pause-finish"' in page

    client.post("/agents/busy/pause", {"stop_current": "0"})
    assert not Run.objects.get(pk=run.pk).cancel_requested
    Agent.objects.filter(pk=agent.pk).update(status="active")
    client.post("/agents/busy/pause", {"stop_current": "1"})
    assert Run.objects.get(pk=run.pk).cancel_requested
    assert Agent.objects.get(pk=agent.pk).status == "paused"


def test_it_sets_how_an_agents_done_work_ships_from_the_config_form(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="shipper")
    body = client.get(f"/agents/{agent.slug}/").content.decode()
    assert 'name="ship_mode"' in body and "Org default" in body

    client.post(f"/agents/{agent.slug}/edit", {"name": agent.name, "ship_mode": "pull_request"})

    agent.refresh_from_db()
    assert agent.ship_mode == "pull_request"


def test_it_switches_an_agent_to_a_pty_terminal_from_the_config_form(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="typist")
    body = client.get(f"/agents/{agent.slug}/").content.decode()
    assert 'name="terminal"' in body and "Pseudo-terminal" in body

    client.post(f"/agents/{agent.slug}/edit", {"name": agent.name, "terminal": "pty"})

    agent.refresh_from_db()
    assert agent.terminal == "pty"

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

from orgs.actors import Actor
from orgs.models import Activity, Org
from orgs.services import membership_set
from runners.models import Run
from runners.usage import day_start
from tests.factories import (
    make_agent,
    make_apex_block,
    make_issue,
    make_issues_bulk,
    make_org,
    make_run,
    make_user,
    make_work_block,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_it_renders_the_dashboard_with_counts_agents_and_alignment(
    client: Any, org: Any, django_assert_max_num_queries: Any
) -> None:
    from blocks.services import work_block_transition
    from tests.factories import SYSTEM

    ceo = make_agent(org, slug="ceo", name="Chief", daily_cost_limit_usd=Decimal("1.00"))
    worker = make_agent(org, slug="worker", name="Worker")
    paused = make_agent(org, slug="sleepy", name="Sleepy")
    from agents.services import agent_pause

    agent_pause(actor=SYSTEM, agent=paused)
    goal = make_apex_block(org, title="Goal")
    block = make_work_block(org, title="Sprint One", apex_block=goal)
    work_block_transition(actor=SYSTEM, block=block, to="active")
    issue = make_issue(org, title="Running thing", assignee=worker, work_block=block)
    make_run(worker, issue=issue, status="running")
    make_run(ceo, status="completed", cost_usd=Decimal("1.50"))
    make_issues_bulk(org, 1000)
    with django_assert_max_num_queries(20):
        response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Sprint One" in body and "100%" in body and "on ACME-1" in body
    assert "over budget" in body and "paused" in body
    assert "$1.50" in body and "1001" in body  # cost today, open issues
    assert 'id="activity-feed"' in body and "mesa:activity from:body" in body


def test_it_renders_dashboard_parts_for_htmx(client: Any, org: Any) -> None:
    make_issue(org, title="Something")
    live = client.get("/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="dash-live").content.decode()
    assert live.startswith('<div id="dash-live"') and "<html" not in live
    feed = client.get("/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="activity-feed").content.decode()
    assert feed.startswith('<div id="activity-feed"') and "created" in feed


def test_it_explains_how_to_start_on_an_empty_database(client: Any, db: None) -> None:
    response = client.get("/")
    assert response.status_code == 200 and "bootstrap" in response.content.decode()


def test_it_filters_and_paginates_the_activity(client: Any, org: Any, django_assert_max_num_queries: Any) -> None:
    for i in range(60):
        make_issue(org, title=f"Thing {i}")
    agent = make_agent(org, slug="builder")
    with django_assert_max_num_queries(12):
        response = client.get("/activity/")
    body = response.content.decode()
    assert "Page 1 of 2" in body and "Thing 59" in body and "Thing 0<" not in body
    assert "Thing 0" in client.get("/activity/?page=2").content.decode()
    body = client.get("/activity/?object_type=agent").content.decode()
    assert agent.name in body and "Thing 5" not in body
    part = client.get("/activity/?verb=created", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="activity-list")
    assert part.content.decode().startswith('<div id="activity-list">')


def test_it_shows_usage_per_agent_and_per_day(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="spender", name="Spender")
    today = make_run(agent, status="completed", tokens_in=1200, tokens_out=300, cost_usd=Decimal("2.25"))
    earlier = make_run(agent, status="completed", tokens_in=100, cost_usd=Decimal("0.50"))
    # Dates come from the rows themselves, so a test that crosses midnight UTC still agrees.
    three_days_ago = day_start(today.created_at) - timedelta(days=3) + timedelta(hours=1)
    Run.objects.filter(pk=earlier.pk).update(created_at=three_days_ago)
    response = client.get("/usage/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Spender" in body and "$2.75" in body and "1.6k" in body
    # One bar per day: each run's cost sits on its own day, the days between are zero.
    day = today.created_at.astimezone(UTC).date()
    assert f"<title>{day.isoformat()}: $2.25</title>" in body
    assert f"<title>{(day - timedelta(days=3)).isoformat()}: $0.50</title>" in body
    assert f"<title>{(day - timedelta(days=1)).isoformat()}: $0.00</title>" in body
    assert body.count("<rect") == 28  # 14 days, two charts


def test_it_saves_settings_and_shows_errors_inline(client: Any, org: Any) -> None:
    response = client.post(
        "/settings/", {"action": "org", "name": "Acme 2", "issue_prefix": "ACX", "features": ["telegram"]}
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.issue_prefix, org.feature("telegram"), org.feature("discord")) == (
        "Acme 2",
        "ACX",
        True,
        False,
    )
    response = client.post("/settings/", {"action": "org", "name": "Acme 3", "issue_prefix": "9bad"})
    assert response.status_code == 400
    assert "issue prefix must be" in response.content.decode() and "9bad" in response.content.decode()
    org.refresh_from_db()
    assert org.name == "Acme 2"


def test_it_creates_labels_and_pauses_the_scheduler(client: Any, org: Any) -> None:
    assert (
        client.post("/settings/", {"action": "label", "label_name": "ux", "label_color": "#123456"}).status_code == 302
    )
    assert org.labels.get().name == "ux"
    from runners import services

    client.post("/settings/", {"action": "pause"})
    assert services.scheduler_paused()
    page = client.get("/settings/").content.decode()
    assert "Resume scheduler" in page
    assert "Scheduler paused: no new runs start (running ones finish)." in page
    client.post("/settings/", {"action": "resume"})
    assert not services.scheduler_paused()


def test_it_switches_between_orgs(client: Any, org: Any) -> None:
    other = make_org(name="Beta Corp", slug="beta", issue_prefix="BETA")
    make_issue(other, title="Beta issue")
    body = client.get("/").content.decode()
    assert "Beta Corp" in body and 'name="org"' in body  # the switcher appears with two orgs
    client.post("/org/switch", {"org": "beta"})
    assert "Beta issue" in client.get("/issues/").content.decode()
    assert 'data-org="beta"' in client.get("/").content.decode()


def test_it_requires_a_login_outside_trusted_local_mode(client: Any, org: Any, settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = False
    response = client.get("/issues/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/issues/")
    assert client.get("/issues/", **HTMX)["HX-Redirect"] == "/login/"
    assert client.get("/login/").status_code == 200
    assert client.get("/api/v1/issues").status_code in {401, 403}  # the API answers with its own auth error
    user = make_user(username="alice")
    bad = client.post("/login/", {"username": "alice", "password": "nope", "next": "/issues/"})
    assert bad.status_code == 400 and "Wrong username or password" in bad.content.decode()
    membership_set(actor=Actor.system(), org=org, user=user, role="member")
    good = client.post("/login/", {"username": "alice", "password": "pw-not-secret-123", "next": "/issues/"})
    assert good.status_code == 302 and good["Location"] == "/issues/"
    client.post("/issues/new", {"title": "By alice"})
    issue = org.issues.get(title="By alice")
    assert issue.created_by_user == user and issue.created_by_label == "alice"
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_it_refuses_an_open_redirect_after_login(client: Any, org: Any, settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = False
    make_user(username="bob")
    response = client.post(
        "/login/", {"username": "bob", "password": "pw-not-secret-123", "next": "https://evil.test/"}
    )
    assert response["Location"] == "/"


def test_it_records_local_mode_actions_as_local(client: Any, org: Any) -> None:
    client.post("/settings/", {"action": "org", "name": "Renamed", "issue_prefix": "ACME"})
    row = Activity.objects.filter(org=org, verb="updated").get()
    assert row.actor_kind == "human" and row.actor_label == "local"
    assert Org.objects.get(pk=org.pk).name == "Renamed"


def test_it_renders_a_styled_404(client: Any, org: Any) -> None:
    response = client.get("/issues/ACME-999/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "There is no issue ACME-999" in body
    assert 'data-page="not-found"' in body  # rendered through base.html, not Django's bare page


def test_it_says_not_found_in_words_on_an_unknown_address(client: Any, org: Any) -> None:
    client.force_login(make_user())
    response = client.get("/nope/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "There is nothing at this address." in body
    assert "Resolver404" not in body


def test_it_words_activity_rows_for_people(client: Any, org: Any) -> None:
    from approvals.services import approval_create
    from blocks.services import work_block_transition
    from issues.services import issue_update
    from tests.factories import SYSTEM

    issue = make_issue(org, title="Tidy the wording")
    issue_update(actor=SYSTEM, issue=issue, title="Tidy the wording now", priority=3)
    approval_create(actor=SYSTEM, org=org, title="Ship it")
    block = make_work_block(org, title="Sprint Words")
    work_block_transition(actor=SYSTEM, block=block, to="active")
    make_apex_block(org, title="Goal Words")
    client.force_login(make_user())
    page = client.get("/activity/").content.decode()
    assert '<option value="workblock">work block</option>' in page
    body = " ".join(page[page.index('id="activity-list"') :].split())
    for wrong in ("approval approval", "apikey", "workblock", "apexblock"):
        assert wrong not in body
    assert "work block</span> Sprint Words" in body
    assert "apex block</span> Goal Words" in body
    assert "· title, priority" in body
    detail = client.get(f"/blocks/{block.pk}/").content.decode()
    assert "in this wb" not in detail


def test_it_renders_approval_titles_as_markdown_with_their_payload(client: Any, org: Any) -> None:
    from approvals.services import approval_create
    from tests.factories import SYSTEM

    approval_create(actor=SYSTEM, org=org, title="Drop the `events` table", payload={"rows": 18234})
    client.force_login(make_user())
    body = client.get("/approvals/").content.decode()
    assert "Drop the <code>events</code> table" in body
    assert '<dt>rows</dt><dd class="mono">18234</dd>' in body


def test_it_lists_the_runners_found_and_the_agents_that_need_setup(client: Any, org: Any) -> None:
    make_agent(org, slug="ghost", name="Ghost", runner="command", model="no-such-cli-xyz")
    make_agent(org, slug="fine", name="Fine", runner="noop")
    client.force_login(make_user())
    body = client.get("/settings/runners/").content.decode()
    assert 'id="doctor"' in body and "claude_code" in body
    assert "Ghost" in body and "no-such-cli-xyz is not installed" in body
    assert "Fine</a>" not in body
    dashboard = client.get("/").content.decode()
    assert 'id="setup-banner"' in dashboard
    client.post("/setup/fallback")
    from agents.models import Agent

    assert Agent.objects.get(org=org, slug="ghost").runner == "dry_run"
    assert Agent.objects.get(org=org, slug="fine").runner == "noop"
    assert 'id="setup-banner"' not in client.get("/").content.decode()


def test_it_switches_only_its_own_orgs_agents_to_dry_run(client: Any, org: Any) -> None:
    other = make_org(name="Other", slug="other", issue_prefix="OTH")
    make_agent(other, slug="ghost", runner="command", model="no-such-cli-xyz")
    make_agent(org, slug="mine", runner="command", model="no-such-cli-xyz")
    client.force_login(make_user())
    client.post("/setup/fallback")
    from agents.models import Agent

    assert Agent.objects.get(org=org, slug="mine").runner == "dry_run"
    assert Agent.objects.get(org=other, slug="ghost").runner == "command"


def test_it_leads_an_empty_org_to_its_next_steps_and_collapses_repeated_activity(client: Any, org: Any) -> None:
    for n in range(6):
        make_agent(org, slug=f"bot-{n}")
    client.force_login(make_user())
    body = client.get("/").content.decode()
    steps = body[body.index('id="next-steps"') :]
    for step in ("Add a repository", "Check the agents", "Write the first issue"):
        assert step in steps
    feed = body[body.index('id="activity-feed"') :]
    assert feed.count('class="feed-item"') == 2  # the six agents, then the org
    assert "and 5 more" in feed
    make_issue(org, title="The first one")
    assert 'id="next-steps"' not in client.get("/").content.decode()


def test_it_shows_the_org_switcher_with_a_single_org(client: Any, org: Any) -> None:
    client.force_login(make_user())
    body = client.get("/issues/").content.decode()
    assert 'aria-label="Switch org"' in body
    assert f'<option value="{org.slug}" selected>{org.name}</option>' in body

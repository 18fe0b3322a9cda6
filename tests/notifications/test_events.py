"""Notifications from the event feed, driven by the code that really publishes each event.

Every test makes the change the way Mesa makes it (a service, the scheduler running a run),
then runs ``process_events`` and looks at the queued deliveries: nothing is hand-published.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from approvals.services import approval_create
from blocks.services import work_block_transition, work_block_update
from issues.services import issue_transition
from notifications.events import CURSOR, process_events
from notifications.models import Delivery, EventCursor, EventKind
from notifications.services import channel_create
from orgs.actors import Actor
from orgs.events import EventType
from orgs.models import Event
from runners.execution import execute_run
from runners.models import Run, RunStatus
from runners.services import run_cancel, run_claim, run_enqueue, run_finish
from tests.factories import make_agent, make_issue, make_run, make_work_block
from tests.runners.conftest import script

SYSTEM = Actor.system("tests")
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("same_utc_day")]

CRASHING_CLI = "import sys\nprint('oops', file=sys.stderr)\nsys.exit(2)\n"


@pytest.fixture
def channel(org: Any) -> Any:
    return channel_create(
        actor=SYSTEM, org=org, kind="webhook", config={"url": "http://127.0.0.1:9/hook"}, secret="x" * 20
    )


@pytest.fixture
def runner_dirs(settings: Any, tmp_path: Path) -> None:
    """Runs started by these tests work in the test's tmp dir; automatic retries wait."""
    settings.MESA_WORKTREES_DIR = str(tmp_path / "worktrees")
    settings.MESA_WORKSPACES_DIR = str(tmp_path / "workspaces")
    settings.MESA_KILL_GRACE_S = 1
    settings.MESA_RETRY_DELAY_S = 3600


def _kinds(org: Any) -> list[str]:
    return list(Delivery.objects.filter(channel__org=org).order_by("id").values_list("kind", flat=True))


def test_it_maps_a_new_approval_to_approval_requested(org: Any, channel: Any) -> None:
    approval = approval_create(actor=SYSTEM, org=org, title="Deploy to production", reason="Release day")

    process_events()

    delivery = Delivery.objects.get(channel=channel)
    assert delivery.kind == EventKind.APPROVAL_REQUESTED
    assert delivery.payload["approval_id"] == approval.pk
    assert delivery.payload["title"] == "Deploy to production" and delivery.payload["reason"] == "Release day"
    # The cursor stands on the last event it read (queueing the delivery published one more after it).
    read = Event.objects.filter(type=EventType.APPROVAL_CREATED).get()
    assert EventCursor.objects.get(name=CURSOR).last_event_id == read.pk


def test_it_never_queues_an_event_twice_when_replayed(org: Any, channel: Any) -> None:
    approval_create(actor=SYSTEM, org=org, title="Ship it")
    process_events()

    process_events(since_id=0)  # a crash between queueing and moving the cursor replays events
    process_events()

    assert _kinds(org) == [EventKind.APPROVAL_REQUESTED]


def test_it_skips_approvals_addressed_to_an_agent_reviewer(org: Any, channel: Any) -> None:
    reviewer = make_agent(org, slug="reviewer")
    approval_create(actor=SYSTEM, org=org, title="Review my change", reviewer=reviewer)

    process_events()

    assert _kinds(org) == []


@pytest.mark.django_db(transaction=True)
def test_it_notifies_a_run_that_failed_in_the_scheduler(
    org: Any, channel: Any, runner_dirs: None, tmp_path: Path
) -> None:
    cli = script(tmp_path, "crash-cli", CRASHING_CLI)
    agent = make_agent(org, slug="backend", runner="command", model=str(cli))
    issue = make_issue(org, title="Crashes", assignee=agent)

    call_command("scheduler", once=True)
    process_events()

    run = Run.objects.filter(issue=issue).order_by("id").first()
    assert run is not None and run.status == RunStatus.FAILED
    # A crash is the work failing, not the agent's setup: no "agent errored".
    assert _kinds(org) == [EventKind.RUN_FAILED]
    payload = Delivery.objects.get().payload
    assert payload["run_id"] == run.pk and payload["agent"] == "backend" and payload["issue_key"] == issue.key
    assert "exit code 2" in payload["failure_reason"]


def test_it_notifies_failed_timed_out_and_budget_stopped_runs_not_completed_or_cancelled(
    org: Any, channel: Any
) -> None:
    agent = make_agent(org, slug="backend")
    outcomes = [RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.BUDGET_EXCEEDED, RunStatus.COMPLETED]
    runs = []
    for status in outcomes:  # one active run per agent and issue: each ends before the next starts
        runs.append(make_run(agent, status=RunStatus.RUNNING))
        run_finish(run=runs[-1], status=status, failure_reason=f"it {status}")
    run_cancel(actor=SYSTEM, run=make_run(agent, status=RunStatus.QUEUED))

    process_events()

    assert _kinds(org) == [EventKind.RUN_FAILED, EventKind.RUN_FAILED, EventKind.BUDGET_EXCEEDED]
    assert [d.payload["run_id"] for d in Delivery.objects.order_by("id")] == [r.pk for r in runs[:3]]
    assert all(d.payload["agent"] == "backend" for d in Delivery.objects.all())


@pytest.mark.django_db(transaction=True)
def test_it_notifies_budget_exceeded_when_a_queued_run_meets_a_spent_budget(
    org: Any, channel: Any, runner_dirs: None
) -> None:
    agent = make_agent(org, slug="spender", daily_token_limit=100)
    issue = make_issue(org, title="Costly")
    run_enqueue(agent=agent, issue=issue)
    make_run(agent, status=RunStatus.COMPLETED, tokens_in=100)  # spent meanwhile
    claimed = run_claim(worker="t:1")
    assert claimed is not None

    assert execute_run(claimed.pk) == RunStatus.BUDGET_EXCEEDED
    process_events()

    # The budget raise it asks for (before the run ends) is an approval too.
    assert _kinds(org) == [EventKind.APPROVAL_REQUESTED, EventKind.BUDGET_EXCEEDED]
    budget = Delivery.objects.get(kind=EventKind.BUDGET_EXCEEDED)
    assert budget.payload["agent"] == "spender" and "over its daily budget" in budget.payload["failure_reason"]


@pytest.mark.django_db(transaction=True)
def test_it_notifies_an_agent_whose_cli_is_missing_as_errored(org: Any, channel: Any, runner_dirs: None) -> None:
    agent = make_agent(org, slug="ghost", runner="command", model="no-such-cli-xyz --flag")
    issue = make_issue(org, title="Cannot run", assignee=agent)
    # The dispatcher starts nothing for an agent that needs setup (runners.readiness): a run queued by hand.
    run_enqueue(agent=agent, issue=issue, reason="by hand")

    call_command("scheduler", once=True)
    process_events()

    run = Run.objects.filter(issue=issue).order_by("id").first()
    assert run is not None and run.status == RunStatus.FAILED
    assert _kinds(org) == [EventKind.RUN_FAILED, EventKind.AGENT_ERRORED]
    errored = Delivery.objects.get(kind=EventKind.AGENT_ERRORED).payload
    assert errored["agent"] == "ghost" and errored["run_id"] == run.pk and errored["issue_key"] == issue.key
    assert "no-such-cli-xyz" in errored["reason"] and "not found" in errored["reason"]


@pytest.mark.django_db(transaction=True)
def test_it_notifies_an_agent_whose_runner_is_not_available_as_errored(
    org: Any, channel: Any, runner_dirs: None
) -> None:
    agent = make_agent(org, slug="retired")
    run = make_run(agent, runner="retired-runner", status=RunStatus.QUEUED)
    claimed = run_claim(worker="t:1")
    assert claimed is not None and claimed.pk == run.pk

    assert execute_run(run.pk) == RunStatus.FAILED
    process_events()

    assert _kinds(org) == [EventKind.RUN_FAILED, EventKind.AGENT_ERRORED]
    errored = Delivery.objects.get(kind=EventKind.AGENT_ERRORED).payload
    assert errored["agent"] == "retired" and "retired-runner" in errored["reason"]


@pytest.mark.django_db(transaction=True)
def test_it_notifies_an_agent_whose_working_directory_is_missing_as_errored(
    org: Any, channel: Any, runner_dirs: None, tmp_path: Path
) -> None:
    agent = make_agent(org, slug="moved", working_dir=str(tmp_path / "deleted-checkout"))
    run = make_run(agent, status=RunStatus.QUEUED)
    assert run_claim(worker="t:1") is not None

    assert execute_run(run.pk) == RunStatus.FAILED
    process_events()

    assert _kinds(org) == [EventKind.RUN_FAILED, EventKind.AGENT_ERRORED]
    errored = Delivery.objects.get(kind=EventKind.AGENT_ERRORED).payload
    assert errored["agent"] == "moved" and "deleted-checkout does not exist" in errored["reason"]


@pytest.mark.django_db(transaction=True)
def test_it_notifies_the_retry_cap_as_issue_blocked_from_the_scheduler(
    org: Any, channel: Any, runner_dirs: None, tmp_path: Path, settings: Any
) -> None:
    settings.MESA_RETRY_DELAY_S = 0  # the scheduler retries at once, up to the cap
    settings.MESA_RETRY_CAP = 2
    cli = script(tmp_path, "crash-cli", CRASHING_CLI)
    agent = make_agent(org, slug="backend", runner="command", model=str(cli))
    issue = make_issue(org, title="Flaky work", assignee=agent)
    issue_transition(actor=SYSTEM, issue=issue, to="in_progress")

    call_command("scheduler", once=True)
    process_events()

    issue.refresh_from_db()
    assert issue.status == "blocked"
    assert _kinds(org) == [EventKind.RUN_FAILED, EventKind.RUN_FAILED, EventKind.ISSUE_BLOCKED]
    failed = Delivery.objects.filter(kind=EventKind.RUN_FAILED).order_by("id").first()
    assert failed is not None and failed.payload["agent"] == "backend" and failed.payload["issue_key"] == issue.key
    blocked = Delivery.objects.get(kind=EventKind.ISSUE_BLOCKED)
    assert blocked.payload["key"] == issue.key and blocked.payload["failures"] == 2 and blocked.payload["moved"]


def test_it_notifies_when_a_work_block_becomes_ready_not_on_later_edits(org: Any, channel: Any) -> None:
    block = make_work_block(org)
    block = work_block_transition(actor=SYSTEM, block=block, to="active")
    block = work_block_transition(actor=SYSTEM, block=block, to="ready")
    work_block_update(actor=SYSTEM, block=block, goal="A new goal")

    process_events()

    assert _kinds(org) == [EventKind.WORK_BLOCK_READY]
    assert Delivery.objects.get().payload["title"] == block.title


def test_it_only_notifies_subscribed_channels(org: Any, channel: Any) -> None:
    channel.events = [EventKind.RUN_FAILED]
    channel.save()
    approval_create(actor=SYSTEM, org=org, title="Ship it")

    process_events()

    assert _kinds(org) == []


def test_it_does_not_replay_old_history_on_first_start(org: Any, channel: Any) -> None:
    approval_create(actor=SYSTEM, org=org, title="Ancient question")
    Event.objects.update(created_at=timezone.now() - timedelta(days=3))
    approval_create(actor=SYSTEM, org=org, title="Fresh question")

    process_events()

    assert [d.payload["title"] for d in Delivery.objects.all()] == ["Fresh question"]

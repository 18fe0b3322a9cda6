from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from approvals.services import approval_create
from blocks.services import work_block_transition, work_block_update
from notifications.events import CURSOR, process_events
from notifications.models import Delivery, EventCursor, EventKind
from notifications.services import channel_create
from orgs.actors import Actor
from orgs.events import event_publish
from orgs.models import Event
from tests.factories import make_agent, make_work_block

SYSTEM = Actor.system("tests")
pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(org: Any) -> Any:
    return channel_create(
        actor=SYSTEM, org=org, kind="webhook", config={"url": "http://127.0.0.1:9/hook"}, secret="x" * 20
    )


def _kinds(org: Any) -> list[str]:
    return list(Delivery.objects.filter(channel__org=org).order_by("id").values_list("kind", flat=True))


def test_it_maps_a_new_approval_to_approval_requested(org: Any, channel: Any) -> None:
    approval = approval_create(actor=SYSTEM, org=org, title="Deploy to production", reason="Release day")

    process_events()

    delivery = Delivery.objects.get(channel=channel)
    assert delivery.kind == EventKind.APPROVAL_REQUESTED
    assert delivery.payload["approval_id"] == approval.pk
    assert delivery.payload["title"] == "Deploy to production" and delivery.payload["reason"] == "Release day"
    assert EventCursor.objects.get(name=CURSOR).last_event_id == Event.objects.order_by("-id").first().pk  # type: ignore[union-attr]


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


def test_it_maps_run_status_events(org: Any, channel: Any) -> None:
    event_publish(org=org, type="run_updated", data={"id": 1, "status": "running"})
    event_publish(org=org, type="run_updated", data={"id": 1, "status": "failed", "agent": "backend"})
    event_publish(org=org, type="run_updated", data={"id": 2, "status": "timed_out"})
    event_publish(org=org, type="run_updated", data={"id": 3, "status": "budget_exceeded", "agent": "qa"})
    event_publish(org=org, type="run_updated", data={"id": 4, "status": "completed"})

    process_events()

    assert _kinds(org) == [EventKind.RUN_FAILED, EventKind.RUN_FAILED, EventKind.BUDGET_EXCEEDED]
    assert Delivery.objects.filter(kind=EventKind.RUN_FAILED).order_by("id").first().payload["run_id"] == 1  # type: ignore[union-attr]


def test_it_maps_retry_cap_budget_and_agent_errors(org: Any, channel: Any) -> None:
    event_publish(org=org, type="issue_retry_cap", data={"key": "ACME-4", "title": "Flaky", "attempts": 3})
    event_publish(org=org, type="budget_exceeded", data={"agent": "backend"})
    event_publish(org=org, type="agent_errored", data={"agent": "qa", "reason": "CLI missing"})
    event_publish(org=org, type="issue_updated", data={"key": "ACME-4", "status": "blocked"})

    process_events()

    assert _kinds(org) == [EventKind.ISSUE_BLOCKED, EventKind.BUDGET_EXCEEDED, EventKind.AGENT_ERRORED]


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


def test_it_notifies_failed_runs_and_the_retry_cap_from_the_scheduler(org: Any, channel: Any, settings: Any) -> None:
    from runners.services import run_finish
    from tests.factories import make_issue, make_run

    settings.MESA_RETRY_CAP = 2
    agent = make_agent(org, slug="backend")
    issue = make_issue(org, title="Flaky work")
    for _ in range(2):
        run = make_run(agent, issue=issue, status="running")
        run_finish(run=run, status="failed", exit_code=1, failure_reason="tests failed")

    process_events()

    kinds = _kinds(org)
    assert kinds == [EventKind.RUN_FAILED, EventKind.RUN_FAILED, EventKind.ISSUE_BLOCKED]
    failed = Delivery.objects.filter(kind=EventKind.RUN_FAILED).order_by("id").first()
    assert failed is not None and failed.payload["agent"] == "backend" and failed.payload["issue_key"] == issue.key
    blocked = Delivery.objects.get(kind=EventKind.ISSUE_BLOCKED)
    assert blocked.payload["key"] == issue.key and blocked.payload["failures"] == 2

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from orgs.actors import Actor
from orgs.errors import Conflict
from runners.models import Run, RunStatus
from runners.services import (
    retry_cap_check,
    run_cancel,
    run_claim,
    run_enqueue,
    run_finish,
    scheduler_paused,
    scheduler_set_paused,
    scheduler_state_message,
)
from tests.factories import make_agent, make_issue, make_run

pytestmark = pytest.mark.django_db


def test_it_never_queues_two_runs_of_one_agent_on_one_issue(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    issue = make_issue(org, title="Once")
    first = run_enqueue(agent=agent, issue=issue, reason="assigned")
    second = run_enqueue(agent=agent, issue=issue, reason="commented")
    assert first.created and not second.created
    assert second.run.pk == first.run.pk
    assert Run.objects.filter(agent=agent, issue=issue).count() == 1


def test_it_enforces_one_active_run_per_agent_and_issue_in_the_database(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    issue = make_issue(org, title="Constraint")
    make_run(agent, issue=issue, status=RunStatus.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_run(agent, issue=issue, status=RunStatus.QUEUED)
    make_run(agent, issue=issue, status=RunStatus.FAILED)  # finished runs do not count


def test_it_marks_a_running_run_for_a_follow_up_instead_of_queueing_a_second(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    issue = make_issue(org, title="Follow up")
    running = make_run(agent, issue=issue, status=RunStatus.RUNNING)
    again = run_enqueue(agent=agent, issue=issue)
    assert not again.created and again.run.pk == running.pk
    running.refresh_from_db()
    assert running.rerun_requested


def test_it_claims_at_most_mesa_max_runs_in_total(org: Any, settings: Any) -> None:
    settings.MESA_MAX_RUNS = 2
    agents = [make_agent(org, runner="noop") for _ in range(3)]
    for agent in agents:
        run_enqueue(agent=agent, issue=make_issue(org))
    claimed = [run_claim(worker="t:1") for _ in range(3)]
    assert [r is not None for r in claimed] == [True, True, False]
    assert Run.objects.filter(status=RunStatus.RUNNING).count() == 2


def test_it_claims_one_running_run_per_agent(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    other = make_agent(org, runner="noop")
    first = run_enqueue(agent=agent, issue=make_issue(org)).run
    run_enqueue(agent=agent, issue=make_issue(org))
    third = run_enqueue(agent=other, issue=make_issue(org)).run
    assert run_claim(worker="t:1").pk == first.pk  # type: ignore[union-attr]
    # The agent's second run waits; another agent's run goes ahead of it.
    assert run_claim(worker="t:1").pk == third.pk  # type: ignore[union-attr]
    assert run_claim(worker="t:1") is None


def test_it_claims_a_review_only_after_the_authors_run_on_the_issue_ended(org: Any) -> None:
    author = make_agent(org, runner="noop")
    reviewer = make_agent(org, runner="noop")
    issue = make_issue(org, title="One branch")
    other = make_issue(org, title="Another issue")
    running = make_run(author, issue=issue, status=RunStatus.RUNNING)
    review = run_enqueue(agent=reviewer, issue=issue, mode="review").run
    elsewhere = run_enqueue(agent=reviewer, issue=other).run

    # The review waits (the author's run holds the branch); other work of the reviewer goes ahead.
    assert run_claim(worker="t:1").pk == elsewhere.pk  # type: ignore[union-attr]
    run_finish(run=elsewhere, status=RunStatus.COMPLETED)
    assert run_claim(worker="t:1") is None
    run_finish(run=running, status=RunStatus.COMPLETED)
    assert run_claim(worker="t:1").pk == review.pk  # type: ignore[union-attr]


def test_it_allows_more_runs_per_agent_when_configured(org: Any, settings: Any) -> None:
    settings.MESA_MAX_RUNS_PER_AGENT = 2
    agent = make_agent(org, runner="noop")
    run_enqueue(agent=agent, issue=make_issue(org))
    run_enqueue(agent=agent, issue=make_issue(org))
    assert run_claim(worker="t:1") is not None
    assert run_claim(worker="t:1") is not None


def test_it_claims_nothing_while_paused_and_the_pause_persists(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    run_enqueue(agent=agent, issue=make_issue(org))
    scheduler_set_paused(actor=Actor.system(), paused=True)
    assert scheduler_paused()
    assert run_claim(worker="t:1") is None
    scheduler_set_paused(actor=Actor.system(), paused=False)
    assert not scheduler_paused()
    assert run_claim(worker="t:1") is not None


def test_it_records_who_switched_the_scheduler_and_ignores_a_repeat() -> None:
    state = scheduler_set_paused(actor=Actor.human(label="ann"), paused=True)
    assert (state.paused, state.paused_by) == (True, "ann")
    assert state.paused_at is not None
    assert scheduler_state_message(state) == "Scheduler paused: no new runs start (running ones finish)."
    # Pausing again changes nothing: it still says who paused it, and since when.
    again = scheduler_set_paused(actor=Actor.human(label="bob"), paused=True)
    assert (again.paused, again.paused_by, again.paused_at) == (True, "ann", state.paused_at)
    resumed = scheduler_set_paused(actor=Actor.human(label="bob"), paused=False)
    assert (resumed.paused, resumed.paused_by, resumed.paused_at) == (False, "bob", None)
    assert scheduler_state_message(resumed) == "Scheduler resumed."
    assert scheduler_set_paused(actor=Actor.human(label="cid"), paused=False).paused_by == "bob"


def test_it_skips_queued_runs_of_paused_agents(org: Any) -> None:
    from agents.services import agent_pause

    agent = make_agent(org, runner="noop")
    run_enqueue(agent=agent, issue=make_issue(org))
    agent_pause(actor=Actor.system(), agent=agent)
    assert run_claim(worker="t:1") is None


def test_it_finishes_a_run_exactly_once(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    run = make_run(agent, status=RunStatus.RUNNING)
    assert run_finish(run=run, status=RunStatus.COMPLETED)
    assert not run_finish(run=run, status=RunStatus.FAILED, failure_reason="late")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.finished_at is not None


def test_it_cancels_a_queued_run_at_once_and_flags_a_running_one(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    queued = make_run(agent, issue=make_issue(org))
    running = make_run(agent, issue=make_issue(org), status=RunStatus.RUNNING)
    run_cancel(actor=Actor.system(), run=queued)
    run_cancel(actor=Actor.system(), run=running)
    queued.refresh_from_db()
    running.refresh_from_db()
    assert queued.status == RunStatus.CANCELLED
    assert running.status == RunStatus.RUNNING and running.cancel_requested
    with pytest.raises(Conflict):
        run_cancel(actor=Actor.system(), run=queued)


def test_it_blocks_an_issue_after_three_failed_runs_with_a_comment_and_an_event(org: Any) -> None:
    from issues.services import issue_transition
    from orgs.models import Event

    agent = make_agent(org, runner="noop")
    issue = make_issue(org, title="Keeps failing", assignee=agent)
    issue_transition(actor=Actor.system(), issue=issue, to="in_progress")
    for status in (RunStatus.FAILED, RunStatus.TIMED_OUT):
        run = make_run(agent, issue=issue, status=RunStatus.RUNNING)
        run_finish(run=run, status=status, failure_reason="boom")
    issue.refresh_from_db()
    assert issue.status == "in_progress"
    run = make_run(agent, issue=issue, status=RunStatus.RUNNING)
    run_finish(run=run, status=RunStatus.FAILED, failure_reason="boom")
    issue.refresh_from_db()
    assert issue.status == "blocked"
    assert issue.comments.filter(kind="system", body__contains="failed in a row").exists()
    assert Event.objects.filter(type="issue_retry_cap", data__key=issue.key).count() == 1


def test_it_blocks_an_issue_that_never_left_todo_after_three_failed_starts(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    issue = make_issue(org, title="Todo fails", assignee=agent)
    for _ in range(3):
        run = make_run(agent, issue=issue, status=RunStatus.RUNNING)
        run_finish(run=run, status=RunStatus.FAILED, failure_reason="claude: command not found")
    issue.refresh_from_db()
    assert issue.status == "blocked"
    body = issue.comments.get(kind="system").body
    assert "moved to blocked" in body and "claude: command not found" in body
    run = make_run(agent, issue=issue, status=RunStatus.RUNNING)
    run_finish(run=run, status=RunStatus.FAILED, failure_reason="boom")
    assert issue.comments.filter(kind="system").count() == 1  # trips once, not on every failure
    assert not retry_cap_check(issue_id=issue.pk)


def test_it_counts_failures_only_since_the_last_success(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    issue = make_issue(org, title="Flaky", assignee=agent)
    for status in (RunStatus.FAILED, RunStatus.FAILED, RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.FAILED):
        run = make_run(agent, issue=issue, status=RunStatus.RUNNING)
        run_finish(run=run, status=status)
    assert not issue.comments.filter(kind="system").exists()


def test_it_caps_heartbeats_that_keep_failing_until_a_run_succeeds(org: Any) -> None:
    from runners.models import RunMode
    from runners.services import heartbeat_capped

    agent = make_agent(org, runner="noop")
    for _ in range(2):
        run_finish(run=make_run(agent, mode=RunMode.HEARTBEAT, status=RunStatus.RUNNING), status=RunStatus.FAILED)
    assert not heartbeat_capped(agent.pk)
    run_finish(run=make_run(agent, mode=RunMode.HEARTBEAT, status=RunStatus.RUNNING), status=RunStatus.TIMED_OUT)
    assert heartbeat_capped(agent.pk)
    run_finish(run=make_run(agent, status=RunStatus.RUNNING), status=RunStatus.COMPLETED)
    assert not heartbeat_capped(agent.pk)

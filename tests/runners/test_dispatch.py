from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from issues.comments import comment_create, system_comment
from issues.services import do_issue_transition, issue_transition, issue_update
from orgs.actors import Actor
from orgs.models import Event
from runners.dispatch import (
    Wake,
    dispatch,
    dispatch_claimed_events,
    dispatch_cursor_start,
    dispatch_events,
    pending_wakes,
    reviewer_for,
    wakes_for_event,
)
from runners.execution import execute_run
from runners.models import Run, RunStatus, SchedulerState
from tests.factories import make_agent, make_ceo, make_issue, make_run

pytestmark = pytest.mark.django_db

HUMAN = Actor.human(label="ann")


def last_wakes(type_: str) -> list[tuple[int, int | None, str]]:
    event = Event.objects.filter(type=type_).latest("id")
    return [(w.agent_id, w.issue_id, w.mode) for w in wakes_for_event(event)]


def to_review(issue: Any, actor: Actor) -> None:
    issue_transition(actor=Actor.system(), issue=issue, to="in_progress")
    # Who moves it is what these tests vary, not whether they may: skip the permission check.
    do_issue_transition(actor=actor, issue=issue, to="in_review")


def test_it_wakes_the_assignee_when_an_issue_is_created_or_assigned(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    issue = make_issue(org, title="Created assigned", assignee=agent)
    assert last_wakes("issue_created") == [(agent.pk, issue.pk, "task")]
    other = make_agent(org, slug="dev2")
    issue_update(actor=HUMAN, issue=issue, assignee=other)
    assert last_wakes("issue_updated") == [(other.pk, issue.pk, "task")]


def test_it_does_not_wake_an_agent_for_its_own_actions(org: Any) -> None:
    from issues.checkout import issue_checkout

    agent = make_agent(org, slug="dev")
    issue = make_issue(org, title="Self checkout")
    issue_checkout(actor=Actor.for_agent(agent), issue=issue)  # assigns itself
    assert last_wakes("issue_updated") == []
    comment_create(actor=Actor.for_agent(agent), issue=issue, body="note to self @dev")
    assert last_wakes("comment_created") == []


def test_it_wakes_the_review_agent_then_the_manager_then_the_ceo_never_the_author(org: Any) -> None:
    ceo = make_ceo(org)
    lead = make_agent(org, slug="lead", reports_to=ceo)
    qa = make_agent(org, slug="qa", reports_to=ceo)
    dev = make_agent(org, slug="dev", reports_to=lead, review_agent=qa)
    solo = make_agent(org, slug="solo", reports_to=lead)
    orphan = make_agent(org, slug="orphan")

    reviewed = make_issue(org, title="Has a review agent", assignee=dev)
    to_review(reviewed, Actor.for_agent(dev))
    assert last_wakes("issue_updated") == [(qa.pk, reviewed.pk, "review")]

    managed = make_issue(org, title="Has a manager", assignee=solo)
    to_review(managed, Actor.for_agent(solo))
    assert last_wakes("issue_updated") == [(lead.pk, managed.pk, "review")]

    lonely = make_issue(org, title="Only the CEO", assignee=orphan)
    to_review(lonely, Actor.for_agent(orphan))
    assert last_wakes("issue_updated") == [(ceo.pk, lonely.pk, "review")]

    own = make_issue(org, title="The CEO's own work", assignee=ceo)
    assert reviewer_for(own) is None  # never the author itself
    to_review(own, Actor.for_agent(ceo))
    assert last_wakes("issue_updated") == []


def test_it_wakes_the_assignee_when_changes_are_requested(org: Any) -> None:
    ceo = make_ceo(org)
    dev = make_agent(org, slug="dev", reports_to=ceo)
    issue = make_issue(org, title="Needs changes", assignee=dev)
    to_review(issue, Actor.for_agent(dev))
    issue_transition(actor=Actor.for_agent(ceo), issue=issue, to="todo")
    assert last_wakes("issue_updated") == [(dev.pk, issue.pk, "task")]


def test_it_wakes_the_assignee_on_a_human_comment_and_mentioned_agents(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    helper = make_agent(org, slug="helper")
    issue = make_issue(org, title="Discussed", assignee=dev)
    comment_create(actor=HUMAN, issue=issue, body="Any progress? @helper can you help? mail@helper.com")
    assert last_wakes("comment_created") == [(dev.pk, issue.pk, "task"), (helper.pk, issue.pk, "task")]
    comment_create(actor=Actor.for_agent(dev), issue=issue, body="Working on it")
    assert last_wakes("comment_created") == []  # an agent's comment wakes nobody unless it mentions
    system_comment(issue=issue, body="@helper system note")
    assert last_wakes("comment_created") == []


def test_it_wakes_the_requester_when_an_approval_is_resolved(org: Any) -> None:
    from approvals.services import approval_create, approval_resolve

    dev = make_agent(org, slug="dev")
    issue = make_issue(org, title="Needs a decision", assignee=dev)
    approval = approval_create(actor=Actor.for_agent(dev), org=org, title="May I deploy?", issue=issue)
    approval_resolve(actor=HUMAN, approval=approval, decision="approved")
    assert last_wakes("approval_resolved") == [(dev.pk, issue.pk, "task")]


def test_it_creates_no_run_when_there_is_no_work(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    other = make_agent(org, slug="other")
    issue = make_issue(org, title="Already done", assignee=dev)
    issue_transition(actor=Actor.system(), issue=issue, to="cancelled")
    assert dispatch(Wake(dev.pk, issue.pk, "task", "late")) is None
    open_issue = make_issue(org, title="Not theirs", assignee=dev)
    assert dispatch(Wake(other.pk, open_issue.pk, "task", "wrong agent")) is None
    assert dispatch(Wake(other.pk, open_issue.pk, "review", "not in review")) is None
    assert dispatch(Wake(other.pk, None, "heartbeat", "nothing")) is None
    assert not Run.objects.exists()


def test_it_reads_the_event_feed_from_a_cursor_and_queues_runs_once(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    start = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    issue = make_issue(org, title="Feed", assignee=dev)
    comment_create(actor=HUMAN, issue=issue, body="and please hurry")
    end = Event.objects.latest("id").pk
    cursor, runs = dispatch_events(start)
    assert cursor == end
    assert [(r.agent_id, r.issue_id) for r in runs] == [(dev.pk, issue.pk), (dev.pk, issue.pk)]
    assert Run.objects.filter(agent=dev, issue=issue).count() == 1  # deduplicated
    later, again = dispatch_events(cursor)  # only the run_queued event is new: nothing to wake
    assert again == [] and later > cursor


def test_it_lets_exactly_one_of_several_schedulers_take_an_event(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    start = dispatch_cursor_start(idle_after=timedelta(seconds=20))  # the first scheduler's start
    issue = make_issue(org, title="Once only", assignee=dev)
    _, runs = dispatch_claimed_events()  # scheduler A takes the assignment
    assert [(r.agent_id, r.issue_id) for r in runs] == [(dev.pk, issue.pk)]
    Run.objects.filter(pk=runs[0].pk).update(status=RunStatus.COMPLETED)  # and its run ends at once
    # Scheduler B, passing after that, finds the event taken: no second run of the same assignment.
    _, again = dispatch_claimed_events()
    assert again == []
    assert Run.objects.filter(agent=dev, issue=issue).count() == 1
    # With a cursor of its own (as each scheduler had before), B would have woken dev a second time.
    _, replayed = dispatch_events(start)
    assert [(r.agent_id, r.issue_id) for r in replayed] == [(dev.pk, issue.pk)]


def test_it_loses_a_claim_that_another_scheduler_made_first(org: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    dev = make_agent(org, slug="dev")
    dispatch_cursor_start(idle_after=timedelta(seconds=20))
    make_issue(org, title="Raced", assignee=dev)
    head = Event.objects.latest("id").pk
    real_filter = SchedulerState.objects.filter

    def taken_meanwhile(*args: Any, **kwargs: Any) -> Any:
        if "event_cursor" in kwargs:  # the claim: another scheduler moved the cursor just before it
            SchedulerState.objects.update(event_cursor=head)
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(SchedulerState.objects, "filter", taken_meanwhile)
    cursor, runs = dispatch_claimed_events()
    assert runs == [] and not Run.objects.exists()
    monkeypatch.undo()
    assert SchedulerState.objects.get(pk=1).event_cursor == head


def test_it_starts_from_the_newest_event_only_when_no_scheduler_is_alive(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    make_issue(org, title="Before the start", assignee=dev)
    head = Event.objects.latest("id").pk
    SchedulerState.objects.update_or_create(pk=1, defaults={"event_cursor": 0, "beat_at": timezone.now()})
    # Another scheduler beat a moment ago: its unclaimed events are not skipped.
    assert dispatch_cursor_start(idle_after=timedelta(seconds=20)) == 0
    SchedulerState.objects.filter(pk=1).update(beat_at=timezone.now() - timedelta(minutes=5))
    # Nobody alive: start at the newest event (start-up recovery re-dispatches pending work).
    assert dispatch_cursor_start(idle_after=timedelta(seconds=20)) == head


@pytest.mark.parametrize("gone", [(), ("qa",), ("qa", "lead"), ("author",)])
def test_it_agrees_with_the_inbox_on_who_reviews(org: Any, gone: tuple[str, ...]) -> None:
    """reviewer_for (the scheduler) and review_q (the inbox, heartbeats) are one rule."""
    from agents.models import Agent
    from issues.models import Issue
    from issues.selectors import review_q
    from runners.dispatch import agent_has_work

    ceo = make_ceo(org)
    lead = make_agent(org, slug="lead", reports_to=ceo)
    qa = make_agent(org, slug="qa", archetype="qa", reports_to=ceo)
    author = make_agent(org, slug="author", reports_to=lead, review_agent=qa)
    owner = ceo if "author" in gone else author  # ("author",): the CEO's own work goes to the board
    issue = make_issue(org, title="Review me", assignee=owner)
    Issue.objects.filter(pk=issue.pk).update(status="in_review")
    Agent.objects.filter(org=org, slug__in=[g for g in gone if g != "author"]).update(status="terminated")
    issue.refresh_from_db()

    chosen = reviewer_for(issue)
    via_inbox = [
        a.slug for a in Agent.objects.filter(org=org) if Issue.objects.filter(review_q(a), pk=issue.pk).exists()
    ]
    assert via_inbox == ([chosen.slug] if chosen else [])
    expected = {(): "qa", ("qa",): "lead", ("qa", "lead"): "ceo", ("author",): None}[gone]
    assert (chosen.slug if chosen else None) == expected
    if chosen is not None:
        assert agent_has_work(Agent.objects.get(pk=chosen.pk))


@pytest.mark.django_db(transaction=True)
def test_it_leaves_settled_work_alone_at_a_restart_and_finds_what_changed_since() -> None:
    """A restart re-dispatches only work that is due: not an issue whose last run completed after it last changed."""
    agent = make_agent(slug="settled", runner="noop")
    issue = make_issue(agent.org, title="Worked on already", assignee=agent)
    assert [w.issue_id for w in pending_wakes(agent=agent)] == [issue.pk]  # never run: due

    run = dispatch(Wake(agent.pk, issue.pk, "task", "test"))
    assert run is not None and execute_run(run.pk) == RunStatus.COMPLETED
    assert pending_wakes(agent=agent) == []  # completed after the last change: a restart leaves it

    comment_create(actor=Actor.human(label="alice"), issue=issue, body="One more thing, please.")
    assert [w.issue_id for w in pending_wakes(agent=agent)] == [issue.pk]  # a comment since: due again

    make_run(agent, issue=issue, status=RunStatus.FAILED)
    assert [w.issue_id for w in pending_wakes(agent=agent)] == [issue.pk]  # a failed last run: due


def test_it_reads_pending_work_in_a_constant_number_of_queries() -> None:
    agent = make_agent(slug="busy", runner="noop")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            pending_wakes(agent=agent)
        return len(queries)

    make_issue(agent.org, title="One", assignee=agent)
    one = count()
    for n in range(5):
        make_issue(agent.org, title=f"More {n}", assignee=agent)
    assert count() == one  # the latest run and comment come with the issues, not one query per issue


def test_it_wakes_the_assignee_of_the_commented_issue_whatever_the_comments_id(org: Any) -> None:
    first, second = make_agent(org, slug="first"), make_agent(org, slug="second")
    for n in range(3):
        make_issue(org, title=f"Issue {n}", assignee=first)
    target = make_issue(org, title="The discussed one", assignee=second)
    comment = comment_create(actor=HUMAN, issue=target, body="Any progress?")
    if comment.pk == target.pk:  # the ids must differ for the test to mean anything
        comment = comment_create(actor=HUMAN, issue=target, body="Any progress?")
    assert comment.pk != target.pk

    assert last_wakes("comment_created") == [(second.pk, target.pk, "task")]

"""A work block's burndown, rebuilt from the activity trail (issues/burndown.py)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from agents.models import Agent
from blocks.models import WorkBlock
from issues.burndown import Burndown, work_block_burndown
from issues.models import Issue
from issues.services import do_issue_transition, do_issue_update, issue_create
from orgs.actors import Actor
from orgs.models import Activity, Org
from tests.factories import make_agent, make_issue, make_work_block

SYSTEM = Actor.system("tests")


def _noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


class History:
    """Runs services, then moves the activity rows they wrote (and created issues) to a chosen moment."""

    def __init__(self) -> None:
        self.seen = Activity.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def at(self, moment: datetime, *issues: Issue) -> None:
        Activity.objects.filter(id__gt=self.seen).update(created_at=moment)
        if issues:
            Issue.objects.filter(pk__in=[i.pk for i in issues]).update(created_at=moment)
        self.seen = Activity.objects.order_by("-id").values_list("id", flat=True).first() or 0


def seed(org: Org, agent: Agent) -> tuple[WorkBlock, date]:
    """Day 0..2 of a cycle that started three days ago (today is day 3; it ends on day 7).

    A, B, C are planned the day before; B starts on day 0; D joins and A starts on day 1; C leaves
    and A is done on day 2. So (scope, open) per day: (3, 3), (4, 4), (3, 2), (3, 2).
    """
    today = timezone.localdate()
    start = today - timedelta(days=3)
    block = make_work_block(org, title="Cycle", start_date=start, end_date=start + timedelta(days=7))
    history = History()
    a, b, c = (issue_create(actor=SYSTEM, org=org, title=t, work_block=block, assignee=agent) for t in "ABC")
    history.at(_noon(start - timedelta(days=1)), a, b, c)
    d = issue_create(actor=SYSTEM, org=org, title="D")
    history.at(_noon(start - timedelta(days=1)), d)
    do_issue_transition(actor=SYSTEM, issue=b, to="in_progress")
    history.at(_noon(start))
    do_issue_update(actor=SYSTEM, issue=d, work_block=block)
    do_issue_transition(actor=SYSTEM, issue=a, to="in_progress")
    history.at(_noon(start + timedelta(days=1)))
    do_issue_update(actor=SYSTEM, issue=c, work_block=None)
    do_issue_transition(actor=SYSTEM, issue=a, to="in_review")
    do_issue_transition(actor=SYSTEM, issue=a, to="done")
    history.at(_noon(start + timedelta(days=2)))
    return block, start


def burndown(org: Org, block: WorkBlock) -> Burndown:
    assert block.start_date and block.end_date
    return work_block_burndown(org=org, block_id=block.pk, start=block.start_date, end=block.end_date)


def test_it_counts_open_issues_and_scope_per_day_from_the_history(org: Org) -> None:
    block, start = seed(org, make_agent(org))
    result = burndown(org, block)
    assert [d.day for d in result.days] == [start + timedelta(days=i) for i in range(4)]
    assert [(d.scope, d.remaining) for d in result.days] == [(3, 3), (4, 4), (3, 2), (3, 2)]
    assert [(d.added, d.removed) for d in result.days] == [(0, 0), (1, 0), (0, 1), (0, 0)]
    assert (result.span, result.start_scope) == (7, 3)


def test_it_ignores_other_blocks_and_the_time_before_an_issue_existed(org: Org) -> None:
    today = timezone.localdate()
    block = make_work_block(org, start_date=today - timedelta(days=2), end_date=today + timedelta(days=2))
    other = make_work_block(org)
    history = History()
    late = make_issue(org, title="Late", work_block=block)
    history.at(_noon(today - timedelta(days=1)), late)
    elsewhere = make_issue(org, title="Elsewhere", work_block=other)
    do_issue_update(actor=SYSTEM, issue=elsewhere, work_block=None)
    result = burndown(org, block)
    assert [(d.scope, d.remaining) for d in result.days] == [(0, 0), (1, 1), (1, 1)]


def test_it_has_no_days_before_the_cycle_starts(org: Org) -> None:
    today = timezone.localdate()
    block = make_work_block(org, start_date=today + timedelta(days=1), end_date=today + timedelta(days=5))
    make_issue(org, work_block=block)
    assert burndown(org, block).days == []


def test_it_reads_the_history_in_a_constant_number_of_queries(org: Org, django_assert_max_num_queries: Any) -> None:
    block, _ = seed(org, make_agent(org))
    for n in range(15):
        issue = make_issue(org, title=f"More {n}")
        do_issue_update(actor=SYSTEM, issue=issue, work_block=block)
        if n % 3 == 0:
            do_issue_update(actor=SYSTEM, issue=issue, work_block=None)
    with django_assert_max_num_queries(4):
        result = burndown(org, block)
    assert result.days[-1].scope == 3 + 10


def test_it_drops_an_archived_issue_from_the_day_it_was_archived(org: Org) -> None:
    from issues.archive import issue_archive

    today = timezone.localdate()
    block = make_work_block(org, start_date=today - timedelta(days=2), end_date=today + timedelta(days=2))
    history = History()
    kept = make_issue(org, title="Kept", work_block=block)
    shelved = make_issue(org, title="Shelved", work_block=block)
    history.at(_noon(today - timedelta(days=3)), kept, shelved)
    issue_archive(actor=Actor.human(label="board"), issue=shelved)
    Issue.objects.filter(pk=shelved.pk).update(archived_at=_noon(today - timedelta(days=1)))
    result = burndown(org, block)
    assert [(d.scope, d.remaining) for d in result.days] == [(2, 2), (1, 1), (1, 1)]
    assert [(d.added, d.removed) for d in result.days] == [(0, 0), (0, 1), (0, 0)]

"""Routines under a fake clock: on time, once, skip while open, catch up once after downtime, Run now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hooks import routines as routines_mod
from hooks.models import LogEntry, Routine
from hooks.routines import routine_create, routine_run_now, routines_fire_due
from issues.models import Issue
from orgs.errors import InvalidInput
from runners import companions
from runners.models import Run
from tests.factories import make_agent
from tests.hooks.conftest import BOARD

T0 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # 08:00 in Paris
NINE_PARIS = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _routine(org: Any, **kw: Any) -> Routine:
    agent = make_agent(org, slug="ops")
    args: dict[str, Any] = {"actor": BOARD, "agent": agent, "name": "standup", "cron": "0 9 * * *",
                            "tz": "Europe/Paris", "title_template": "Stand-up {{ date }}", "now": T0}  # fmt: skip
    args.update(kw)
    return routine_create(**args)


def _close_all(org: Any) -> None:
    Issue.objects.filter(org=org).update(status="done")


def test_it_fires_on_time_in_its_timezone_and_only_once(org: Any) -> None:
    routine = _routine(org)
    assert routine.next_fire_at == NINE_PARIS

    early = routines_fire_due(NINE_PARIS - timedelta(seconds=1))
    on_time = routines_fire_due(NINE_PARIS)
    again = routines_fire_due(NINE_PARIS + timedelta(seconds=30))  # a second scheduler's pass, same minute

    assert (early, on_time, again) == (0, 1, 0)
    issue = Issue.objects.get(org=org)
    assert issue.title == "Stand-up 2026-11-30" and issue.assignee == routine.agent
    routine.refresh_from_db()
    assert routine.last_fire_at == NINE_PARIS and routine.next_fire_at == NINE_PARIS + timedelta(days=1)


def test_it_skips_while_its_last_issue_is_open_then_fires_again(org: Any) -> None:
    _routine(org)
    routines_fire_due(NINE_PARIS)
    skipped = routines_fire_due(NINE_PARIS + timedelta(days=1))
    assert Issue.objects.filter(org=org).count() == 1 and skipped == 1
    assert LogEntry.objects.filter(kind="routine_skipped").count() == 1
    _close_all(org)

    routines_fire_due(NINE_PARIS + timedelta(days=2))

    assert Issue.objects.filter(org=org).count() == 2


def test_it_queues_when_asked_and_starts_runs(org: Any) -> None:
    _routine(org, concurrency="queue", action="run")
    routines_fire_due(NINE_PARIS)
    routines_fire_due(NINE_PARIS + timedelta(days=1))

    assert Issue.objects.filter(org=org).count() == 2
    assert Run.objects.filter(org=org, status="queued").count() == 2


def test_it_fires_a_missed_time_once_after_downtime(org: Any) -> None:
    routine = _routine(org, concurrency="queue")
    three_days_later = NINE_PARIS + timedelta(days=3, hours=2)

    assert routines_fire_due(three_days_later) == 1
    assert routines_fire_due(three_days_later) == 0
    routine.refresh_from_db()
    assert Issue.objects.filter(org=org).count() == 1
    assert routine.next_fire_at == NINE_PARIS + timedelta(days=4)


def test_it_runs_now_without_moving_the_schedule(org: Any) -> None:
    routine = _routine(org)
    routines_fire_due(NINE_PARIS)  # the last issue is still open: "skip" would skip the next fire

    routine = routine_run_now(actor=BOARD, routine=routine, now=NINE_PARIS + timedelta(hours=3))

    assert Issue.objects.filter(org=org).count() == 2
    assert routine.next_fire_at == NINE_PARIS + timedelta(days=1)
    kinds = list(LogEntry.objects.filter(routine=routine).order_by("id").values_list("kind", flat=True))
    assert kinds == ["routine_fired", "routine_fired"]


def test_it_refuses_a_bad_cron_or_timezone(org: Any) -> None:
    with pytest.raises(InvalidInput):
        _routine(org, cron="every day")
    with pytest.raises(InvalidInput):
        routine_create(actor=BOARD, agent=make_agent(org, slug="x"), name="n", cron="0 9 * * *", tz="Mars/Base",
                       title_template="t")  # fmt: skip


def test_it_is_fired_by_the_schedulers_periodic_pass() -> None:
    assert routines_fire_due in companions.periodic_functions()


def test_it_fires_once_when_two_schedulers_read_the_same_due_routine(org: Any, monkeypatch: Any) -> None:
    _routine(org, concurrency="queue")
    real_next = routines_mod.next_fire
    other_claimed: list[int] = []

    def racing_next(cron: str, tz: str, after: datetime) -> datetime:
        # The other scheduler claims and fires between this one's read and its conditional update.
        if not other_claimed:
            other_claimed.append(0)
            other_claimed[0] = routines_fire_due(after)
        return real_next(cron, tz, after)

    monkeypatch.setattr(routines_mod, "next_fire", racing_next)
    mine = routines_fire_due(NINE_PARIS)

    assert (mine, other_claimed[0]) == (0, 1)
    assert Issue.objects.filter(org=org).count() == 1

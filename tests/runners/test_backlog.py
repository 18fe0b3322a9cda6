"""The CEO loop's intake: a human's backlog item reaches the CEO's next run, then is archived."""

from __future__ import annotations

from typing import Any

import pytest

from orgs.actors import Actor
from orgs.errors import InvalidInput
from orgs.models import Event
from runners.backlog import backlog_append, backlog_archive, backlog_path, backlog_read
from runners.dispatch import dispatch_events, pending_wakes
from runners.execution import execute_run
from runners.models import Run, RunMode, RunStatus
from tests.factories import make_agent, make_ceo

pytestmark = pytest.mark.django_db(transaction=True)
HUMAN = Actor.human(label="alice")


def test_it_writes_the_item_wakes_the_ceo_and_archives_what_the_run_saw(org: Any) -> None:
    ceo = make_ceo(org, runner="dry_run")
    backlog_append(actor=HUMAN, org=org, text="Customers want CSV export of invoices.")
    assert "Customers want CSV export" in backlog_path(ceo).read_text()
    # The append publishes its event; the dispatcher, reading the feed, wakes the CEO.
    assert Event.objects.filter(type="backlog_updated", data__ceo_id=ceo.pk).exists()
    assert not Run.objects.filter(agent=ceo).exists()
    dispatch_events(0)
    run = Run.objects.get(agent=ceo)
    assert run.mode == RunMode.HEARTBEAT and run.status == RunStatus.QUEUED

    assert execute_run(run.pk) == RunStatus.COMPLETED
    run.refresh_from_db()
    assert "BACKLOG INTAKE" in run.prompt and "Customers want CSV export" in run.prompt
    assert backlog_read(ceo).strip() == ""
    archived = list((backlog_path(ceo).parent / "backlog-done").glob("*.md"))
    assert len(archived) == 1 and "CSV export" in archived[0].read_text()


def test_it_keeps_items_added_while_the_run_was_going(org: Any) -> None:
    ceo = make_ceo(org, runner="noop")
    backlog_append(actor=HUMAN, org=org, text="First item")
    seen = backlog_read(ceo)
    backlog_append(actor=HUMAN, org=org, text="Second item, added during the run")
    assert backlog_archive(ceo, seen)
    left = backlog_read(ceo)
    assert "Second item" in left and "First item" not in left


def test_it_refuses_an_empty_item_or_an_org_without_ceo(org: Any) -> None:
    make_agent(org, slug="lonely")
    with pytest.raises(InvalidInput):
        backlog_append(actor=HUMAN, org=org, text="   ")
    with pytest.raises(InvalidInput) as exc:
        backlog_append(actor=HUMAN, org=org, text="Do something")
    assert "no CEO" in exc.value.message


def test_it_finds_backlog_items_whose_event_no_scheduler_saw(org: Any) -> None:
    ceo = make_ceo(org, runner="noop")
    make_agent(org, slug="worker", reports_to=ceo)
    assert pending_wakes() == []
    backlog_append(actor=HUMAN, org=org, text="Added while the scheduler was down")
    wakes = pending_wakes(org_id=org.pk)
    assert [(w.agent_id, w.issue_id, w.mode) for w in wakes] == [(ceo.pk, None, RunMode.HEARTBEAT)]
    assert pending_wakes(agent=ceo) == wakes and pending_wakes(org_id=org.pk + 1) == []

"""A work block moves to ready by itself when its last open issue finishes (issue 10)."""

from __future__ import annotations

from typing import Any

import pytest

from blocks.models import WorkBlock, WorkBlockStatus
from blocks.services import work_block_transition
from issues.services import issue_transition, issue_update
from notifications.events import map_event
from orgs.actors import Actor
from orgs.models import Event
from runners.dispatch import dispatch_events
from tests.factories import make_agent, make_issue, make_work_block

pytestmark = pytest.mark.django_db
BOARD = Actor.human(label="alice")


def _finish(issue: Any, to: str = "done") -> None:
    if issue.assignee_id is None:
        issue_update(actor=BOARD, issue=issue, assignee=make_agent(issue.org))
        issue.refresh_from_db()
    issue_transition(actor=BOARD, issue=issue, to="in_progress")
    if to == "done":
        issue_transition(actor=BOARD, issue=issue, to="in_review")
    issue_transition(actor=BOARD, issue=issue, to=to)


def test_it_moves_the_active_block_to_ready_when_its_last_issue_finishes(org: Any) -> None:
    block = make_work_block(org, title="Sprint 1")
    work_block_transition(actor=BOARD, block=block, to="active")
    first = make_issue(org, title="First", work_block=block)
    second = make_issue(org, title="Second", work_block=block)
    outside = make_issue(org, title="Not in the block")

    _finish(first)
    _finish(outside)
    dispatch_events(0)
    assert WorkBlock.objects.get(pk=block.pk).status == WorkBlockStatus.ACTIVE  # one issue still open

    _finish(second, to="cancelled")
    dispatch_events(0)
    assert WorkBlock.objects.get(pk=block.pk).status == WorkBlockStatus.READY
    moved = Event.objects.filter(type="work_block_updated", data__id=block.pk, data__status="ready").get()
    assert moved.data["from_status"] == "active"
    mapped = map_event(moved)  # what the notification channels are told
    assert mapped is not None and mapped[0] == "work_block_ready"


def test_it_leaves_a_proposed_block_and_an_empty_one_alone(org: Any) -> None:
    proposed = make_work_block(org, title="Later")
    issue = make_issue(org, title="Planned", work_block=proposed)
    _finish(issue)
    dispatch_events(0)
    assert WorkBlock.objects.get(pk=proposed.pk).status == WorkBlockStatus.PROPOSED

"""The issue lifecycle: every status × status move through ``issue_transition``."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from issues.lifecycle import TRANSITIONS, allowed_moves, is_terminal
from issues.models import TERMINAL_STATUSES, Issue, Status
from issues.services import issue_transition
from orgs.actors import Actor
from orgs.errors import Conflict, InvalidInput
from orgs.models import Event
from tests.factories import make_agent, make_issue

BOARD = Actor.human(label="board")

# The lifecycle as the issue specifies it, written out independently of issues.lifecycle.
SPEC: set[tuple[str, str]] = {
    ("todo", "in_progress"),
    ("todo", "blocked"),
    ("in_progress", "blocked"),
    ("blocked", "in_progress"),
    ("in_progress", "in_review"),
    ("in_review", "todo"),
    ("in_review", "done"),
    ("in_review", "board_review"),
    ("in_review", "wont_do"),
    ("board_review", "done"),
    ("board_review", "wont_do"),
    ("board_review", "todo"),
} | {(s, "cancelled") for s in ("todo", "in_progress", "blocked", "in_review", "board_review")}

PAIRS = [(a, b) for a, b in itertools.product(Status.values, Status.values) if a != b]


def _issue_in(org: Any, status: str) -> Issue:
    issue = make_issue(org, assignee=make_agent(org))
    Issue.objects.filter(pk=issue.pk).update(status=status)
    issue.refresh_from_db()
    return issue


def test_it_has_exactly_the_specified_transition_table() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == SPEC
    assert set(TRANSITIONS) == set(Status.values)
    assert (
        {s for s in Status.values if not TRANSITIONS[s]} == set(TERMINAL_STATUSES) == {"done", "wont_do", "cancelled"}
    )
    assert all(is_terminal(s) for s in TERMINAL_STATUSES)


@pytest.mark.parametrize(("old", "new"), [p for p in PAIRS if p in SPEC], ids=lambda v: str(v))
def test_it_allows_every_legal_move(org: Any, old: str, new: str) -> None:
    issue = _issue_in(org, old)
    events_before = Event.objects.filter(type="issue_updated").count()
    moved = issue_transition(actor=BOARD, issue=issue, to=new)
    assert moved.status == new
    issue.refresh_from_db()
    assert issue.status == new
    event = Event.objects.filter(type="issue_updated").last()
    assert Event.objects.filter(type="issue_updated").count() == events_before + 1
    assert event is not None
    assert event.data["from_status"] == old and event.data["status"] == new
    assert event.data["changes"] == ["status"]
    if new in TERMINAL_STATUSES:
        assert issue.completed_at is not None
    else:
        assert issue.completed_at is None
    if new == Status.IN_PROGRESS:
        assert issue.started_at is not None


@pytest.mark.parametrize(("old", "new"), [p for p in PAIRS if p not in SPEC], ids=lambda v: str(v))
def test_it_refuses_every_illegal_move_naming_the_allowed_ones(org: Any, old: str, new: str) -> None:
    issue = _issue_in(org, old)
    with pytest.raises(Conflict) as exc:
        issue_transition(actor=BOARD, issue=issue, to=new)
    err = exc.value
    assert err.code == "illegal_transition"
    assert err.extra["allowed"] == list(allowed_moves(old))
    assert err.extra["current"] == old
    assert err.status == 409
    for move in allowed_moves(old):
        assert move in err.message
    if not allowed_moves(old):
        assert "final" in err.message
    issue.refresh_from_db()
    assert issue.status == old
    assert err.as_dict()["code"] == "illegal_transition"


def test_it_treats_a_move_to_the_same_status_as_a_no_op(org: Any) -> None:
    issue = _issue_in(org, Status.IN_REVIEW)
    before = Event.objects.count()
    assert issue_transition(actor=BOARD, issue=issue, to=Status.IN_REVIEW).status == Status.IN_REVIEW
    assert Event.objects.count() == before


def test_it_refuses_an_unknown_status(org: Any) -> None:
    issue = _issue_in(org, Status.TODO)
    with pytest.raises(InvalidInput) as exc:
        issue_transition(actor=BOARD, issue=issue, to="shipped")
    assert exc.value.extra["field"] == "status"


def test_it_refuses_to_start_an_unassigned_issue(org: Any) -> None:
    issue = make_issue(org)
    with pytest.raises(InvalidInput) as exc:
        issue_transition(actor=BOARD, issue=issue, to=Status.IN_PROGRESS)
    assert exc.value.extra["field"] == "assignee"
    issue.refresh_from_db()
    assert issue.status == Status.TODO


def test_it_sets_started_at_only_on_the_first_start(org: Any) -> None:
    issue = make_issue(org, assignee=make_agent(org))
    assert issue.started_at is None and issue.completed_at is None
    issue_transition(actor=BOARD, issue=issue, to=Status.IN_PROGRESS)
    first = Issue.objects.get(pk=issue.pk).started_at
    assert first is not None
    issue_transition(actor=BOARD, issue=issue, to=Status.BLOCKED)
    issue_transition(actor=BOARD, issue=issue, to=Status.IN_PROGRESS)
    issue_transition(actor=BOARD, issue=issue, to=Status.IN_REVIEW)
    issue_transition(actor=BOARD, issue=issue, to=Status.TODO)
    issue_transition(actor=BOARD, issue=issue, to=Status.IN_PROGRESS)
    row = Issue.objects.get(pk=issue.pk)
    assert row.started_at == first
    assert row.completed_at is None
    issue_transition(actor=BOARD, issue=issue, to=Status.IN_REVIEW)
    issue_transition(actor=BOARD, issue=issue, to=Status.DONE)
    row = Issue.objects.get(pk=issue.pk)
    assert row.completed_at is not None and row.completed_at >= first
    assert row.started_at == first


def test_it_refuses_a_move_from_a_stale_copy(org: Any) -> None:
    issue = make_issue(org, assignee=make_agent(org))
    stale = Issue.objects.get(pk=issue.pk)
    issue_transition(actor=BOARD, issue=issue, to=Status.IN_PROGRESS)
    with pytest.raises(Conflict) as exc:
        issue_transition(actor=BOARD, issue=stale, to=Status.CANCELLED)
    assert exc.value.code == "stale"
    assert exc.value.extra["current"] == Status.IN_PROGRESS
    assert Issue.objects.get(pk=issue.pk).status == Status.IN_PROGRESS


def test_it_adds_the_transition_comment_and_an_activity_row(org: Any) -> None:
    from orgs.models import Activity

    issue = make_issue(org, assignee=make_agent(org))
    issue_transition(actor=BOARD, issue=issue, to=Status.CANCELLED, comment="Not needed any more.")
    assert issue.comments.get().body == "Not needed any more."
    row = Activity.objects.filter(verb="moved", object_id=issue.key).get()
    assert row.details == {"from": "todo", "to": "cancelled"}
    assert row.actor_kind == "human"

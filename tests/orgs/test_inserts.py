"""``orgs.inserts.insert`` writes the row ``create()`` writes: defaults, stamps, JSON, foreign keys, the new pk."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from django.forms.models import model_to_dict

from issues.models import Comment, Issue
from orgs.inserts import insert, update_by_pk
from orgs.models import Activity, Event
from tests.factories import make_agent, make_issue

pytestmark = pytest.mark.django_db


def _row(model: Any, pk: int) -> dict[str, Any]:
    row = model_to_dict(model.objects.get(pk=pk))
    row.pop("id")
    return row


def test_it_writes_the_row_create_writes(org: Any) -> None:
    data = {"n": 1, "nested": {"ok": True, "list": [1, "two"]}, "text": "é ✓"}
    made = Event.objects.create(org=org, type="issue_updated", data=data)
    inserted = insert(Event(org=org, type="issue_updated", data=data))
    assert inserted.pk and inserted.pk > made.pk and not inserted._state.adding
    assert _row(Event, inserted.pk) == _row(Event, made.pk)
    stored = Event.objects.get(pk=inserted.pk)
    assert stored.created_at is not None and stored.created_at == inserted.created_at  # auto_now_add, as saved


def test_it_keeps_defaults_and_foreign_keys(org: Any) -> None:
    agent = make_agent(org)
    issue = make_issue(org)
    comment = insert(Comment(issue=issue, body="hello", author_agent=agent))
    stored = Comment.objects.get(pk=comment.pk)
    assert stored.issue_id == issue.pk and stored.author_agent_id == agent.pk
    assert stored.kind == Comment._meta.get_field("kind").default  # the field default, from the instance
    activity = insert(Activity(org=org, actor_kind="system", actor_label="Mesa", verb="did", details={}))
    assert Activity.objects.filter(pk=activity.pk, verb="did", org=org).exists()


def test_it_updates_one_row_as_the_orm_updates_it(org: Any) -> None:
    first, second = make_issue(org), make_issue(org)
    stamp = datetime(2026, 6, 30, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5)))
    assert update_by_pk(Issue, first.pk, updated_at=stamp, title="Renamed") == 1
    Issue.objects.filter(pk=second.pk).update(updated_at=stamp, title="Renamed")
    a, b = Issue.objects.get(pk=first.pk), Issue.objects.get(pk=second.pk)
    assert (a.updated_at, a.title) == (b.updated_at, b.title) == (stamp, "Renamed")
    assert update_by_pk(Issue, 10**9, title="Nobody") == 0  # no such row: nothing changed, and it says so
    assert update_by_pk(Issue, first.pk, title="Again") == 1  # the same fields again: the kept SQL
    assert Issue.objects.get(pk=first.pk).title == "Again"

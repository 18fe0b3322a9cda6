"""Compiled hot-path queries: compiled once, the ORM's rows every time, the ORM where they cannot be."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

from issues.models import Comment, Issue
from orgs.compiled import compiled
from runners.models import Run
from tests.factories import make_agent, make_comment, make_issue, make_org, make_run


class _CountCompiles:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n = 0
        original = SQLCompiler.as_sql

        def counting(compiler: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
            self.n += 1
            return original(compiler, *args, **kwargs)

        monkeypatch.setattr(SQLCompiler, "as_sql", counting)


def _comments(issue_id: int) -> QuerySet[Any, Any]:
    return Comment.objects.filter(issue_id=issue_id).order_by("id").values_list("id", "body", "created_at")


def test_it_compiles_once_and_answers_what_the_orm_answers(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    org = make_org()
    first, second = make_issue(org), make_issue(org)
    make_comment(first, body="one")
    make_comment(first, body="two")
    make_comment(second, body="three")
    query = compiled(_comments)
    counter = _CountCompiles(monkeypatch)
    assert query(first.pk) == list(_comments(first.pk))
    orm_compiles = counter.n
    assert query(second.pk) == list(_comments(second.pk))  # another argument, the right rows
    assert [row[1] for row in query(second.pk)] == ["three"]
    counter.n = 0
    for _ in range(5):
        query(first.pk)
    assert counter.n == 0  # no compiling after the first call
    assert orm_compiles >= 2  # the measure sees compiling: the first call and the ORM's own query


def test_it_converts_dates_and_decimals_as_the_orm_does(db: None) -> None:
    org = make_org()
    agent = make_agent(org)
    issue = make_issue(org, assignee=agent)
    make_run(agent, issue=issue, cost_usd=Decimal("0.125"))

    def costs(issue_id: int) -> QuerySet[Any, Any]:
        return Run.objects.filter(issue_id=issue_id).values_list("cost_usd", "created_at")

    rows = compiled(costs)(issue.pk)
    assert rows == list(costs(issue.pk))
    assert rows[0][0] == Decimal("0.125") and rows[0][1].tzinfo is not None


def test_it_runs_through_the_orm_when_an_argument_is_transformed_or_changes_the_sql(db: None) -> None:
    org = make_org()
    make_issue(org, title="Fix the login page")
    make_issue(org, title="Write the docs")

    def titled(org_id: int, word: str) -> QuerySet[Any, Any]:
        return Issue.objects.filter(org_id=org_id, title__icontains=word).values_list("title")

    query = compiled(titled)
    assert query(org.pk, "LOGIN") == [("Fix the login page",)]
    assert query(org.pk, "docs") == [("Write the docs",)]
    assert list(query.plans.values()) == [None]  # '%login%' is not the argument: not compiled

    def parented(parent_id: int | None) -> QuerySet[Any, Any]:
        return Issue.objects.filter(org_id=org.pk, parent_id=parent_id).order_by("number").values_list("title")

    by_parent = compiled(parented)
    assert by_parent(None) == list(parented(None))  # IS NULL: a different SQL, so the ORM answers
    assert len(by_parent(None)) == 2

"""Compiled hot-path queries: compiled once, the ORM's rows every time, the ORM where they cannot be."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

from issues.models import Comment, Issue
from orgs.compiled import compiled, compiled_models
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


def _issue_with_people(key: str) -> QuerySet[Any, Any]:
    return Issue.objects.select_related("assignee", "parent").defer("assignee__env").filter(key=key).order_by()[:1]


def test_it_builds_model_instances_with_their_related_objects_as_the_orm_does(
    db: None, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    org = make_org()
    agent = make_agent(org, env={"TOKEN": "secret"})
    parent = make_issue(org, title="Parent")
    child = make_issue(org, title="Child", assignee=agent, parent=parent)
    query = compiled_models(_issue_with_people)
    assert query(child.key) == list(_issue_with_people(child.key))
    counter = _CountCompiles(monkeypatch)
    with django_assert_num_queries(1):
        (found,) = query(child.key)
        # The related rows came with it: reading them asks nothing more.
        assert (found.assignee.slug, found.parent.title, found.title) == (agent.slug, "Parent", "Child")
        assert found._state.adding is False and found._state.db == "default"
    assert counter.n == 0
    assert found.assignee.env == {"TOKEN": "secret"}  # the deferred field loads when read
    assert query("NOPE-1") == []


def _titles(shape: tuple[str, ...], org_id: int, *values: Any) -> QuerySet[Any, Any]:
    qs = Issue.objects.filter(org_id=org_id)
    if "status" in shape:
        qs = qs.filter(status=values[0])
    return qs.order_by("number").values_list("title")


def test_it_keeps_a_plan_per_shape_and_pages_and_counts_it(db: None) -> None:
    org = make_org()
    for n in range(7):
        make_issue(org, title=f"t{n}")
    query = compiled(_titles)
    assert query.page((), org.pk, offset=2, limit=3) == [("t2",), ("t3",), ("t4",)]
    assert query.page((), org.pk, offset=6, limit=3) == [("t6",)]
    assert query.count((), org.pk) == 7
    assert query.page(("status",), org.pk, "done", offset=0, limit=5) == []
    assert query.count(("status",), org.pk, "todo") == 7
    assert len(query.plans) == 2 and None not in query.plans.values()  # one compiled plan per shape


def test_it_answers_a_query_that_can_match_nothing_through_the_orm(db: None) -> None:
    org = make_org()
    make_issue(org)

    def none_of(org_id: int) -> QuerySet[Any, Any]:
        return Issue.objects.filter(org_id=org_id, pk__in=[]).values_list("id")

    query = compiled(none_of)
    assert query(org.pk) == [] and query.count(org.pk) == 0
    assert list(query.plans.values()) == [None]

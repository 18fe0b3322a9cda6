"""Issue keys: ``<PREFIX>-<n>`` without gaps or duplicates, even under concurrent creation."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from issues.models import Issue
from issues.services import issue_create
from orgs.actors import Actor
from orgs.errors import Conflict
from orgs.models import Org
from tests.factories import make_issue, make_org

SYSTEM = Actor.system("tests")
THREADS = 8
PER_THREAD = 25


@pytest.mark.django_db(transaction=True)
def test_it_allocates_gapless_unique_keys_under_concurrent_creation() -> None:
    org = make_org(issue_prefix="RACE")
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(worker: int) -> None:
        try:
            mine = Org.objects.get(pk=org.pk)  # each thread its own instance (issue_create mutates it)
            start.wait()
            for i in range(PER_THREAD):
                issue_create(actor=SYSTEM, org=mine, title=f"worker {worker} issue {i}")
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    total = THREADS * PER_THREAD
    rows = list(Issue.objects.filter(org=org).values_list("number", "key"))
    assert sorted(n for n, _ in rows) == list(range(1, total + 1))
    assert sorted(k for _, k in rows) == sorted(f"RACE-{n}" for n in range(1, total + 1))
    assert all(key == f"RACE-{number}" for number, key in rows)
    org.refresh_from_db()
    assert org.issue_seq == total


def test_it_numbers_issues_from_one_with_the_org_prefix(org: Any) -> None:
    keys = [make_issue(org).key for _ in range(3)]
    assert keys == ["ACME-1", "ACME-2", "ACME-3"]


def test_it_spends_no_number_on_a_refused_duplicate(org: Any) -> None:
    assert make_issue(org, title="Fix the login").key == "ACME-1"
    with pytest.raises(Conflict):
        make_issue(org, title="  fix   THE login ")
    assert make_issue(org, title="Something else").key == "ACME-2"
    org.refresh_from_db()
    assert org.issue_seq == 2


def test_it_returns_the_number_when_creation_fails_after_allocation(org: Any, monkeypatch: Any) -> None:
    import issues.services as services

    real = services.event_publish
    calls = {"n": 0}

    def explode_once(**kw: Any) -> Any:
        if kw.get("type") == "issue_created" and calls["n"] == 0:
            calls["n"] += 1
            raise RuntimeError("boom after the number was taken")
        return real(**kw)

    monkeypatch.setattr(services, "event_publish", explode_once)
    with pytest.raises(RuntimeError):
        make_issue(org, title="Doomed")
    assert not Issue.objects.filter(org=org).exists()
    assert make_issue(org, title="Survivor").key == "ACME-1"


def test_it_keeps_orgs_with_the_same_prefix_apart(db: None) -> None:
    first = make_org(slug="first", issue_prefix="SAME")
    second = make_org(slug="second", issue_prefix="SAME")
    a1 = make_issue(first, title="One")
    b1 = make_issue(second, title="One")  # same title in another org is no duplicate
    a2 = make_issue(first, title="Two")
    assert (a1.key, b1.key, a2.key) == ("SAME-1", "SAME-1", "SAME-2")
    assert Issue.objects.filter(key="SAME-1").count() == 2


def test_it_uses_the_current_prefix_for_new_issues(org: Any) -> None:
    from orgs.services import org_update

    make_issue(org)
    org_update(actor=SYSTEM, org=org, issue_prefix="new")
    assert make_issue(org).key == "NEW-2"


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_several_concurrent_identical_titles_through() -> None:
    org = make_org(issue_prefix="SAME")
    created: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work() -> None:
        try:
            mine = Org.objects.get(pk=org.pk)
            start.wait()
            created.append(issue_create(actor=SYSTEM, org=mine, title="Everyone files this").key)
        except Conflict as exc:
            refused.append(exc.extra["existing_key"])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert created == ["SAME-1"]
    assert refused == ["SAME-1"] * (THREADS - 1)
    assert Org.objects.get(pk=org.pk).issue_seq == 1

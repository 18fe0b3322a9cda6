from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from agents.models import Agent
from issues.models import Issue, Status
from orgs.models import Activity, Event, Org
from tests.factories import make_agent, make_issue


def test_it_checks_out_a_todo_issue(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    issue = make_issue(api_org)
    r = call("POST", f"issues/{issue.key}/checkout", agent_key(engineer))
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "in_progress" and r.json()["assignee"] == "engineer"
    issue.refresh_from_db()
    assert issue.status == Status.IN_PROGRESS and issue.assignee == engineer and issue.started_at is not None
    assert Activity.objects.filter(verb="checked out", object_id=issue.key).exists()
    assert Event.objects.filter(type="issue_updated", data__key=issue.key, data__assignee="engineer").exists()


def test_it_is_idempotent_for_the_holder(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    issue = make_issue(api_org, assignee=engineer)
    key = agent_key(engineer)
    assert call("POST", f"issues/{issue.key}/checkout", key).status_code == 200
    events = Event.objects.count()
    r = call("POST", f"issues/{issue.key}/checkout", key)
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    assert Event.objects.count() == events  # nothing changed, nothing published


def test_it_refuses_an_issue_claimed_by_another(
    call: Any, api_org: Org, engineer: Agent, designer: Agent, agent_key: Any
) -> None:
    issue = make_issue(api_org)
    assert call("POST", f"issues/{issue.key}/checkout", agent_key(engineer)).status_code == 200
    r = call("POST", f"issues/{issue.key}/checkout", agent_key(designer))
    assert r.status_code == 409 and r.json()["code"] == "not_claimable" and r.json()["current"] == "in_progress"
    issue.refresh_from_db()
    assert issue.status == Status.IN_PROGRESS and issue.assignee == engineer


def test_it_forbids_a_todo_issue_assigned_to_someone_else(
    call: Any, api_org: Org, engineer: Agent, designer: Agent, agent_key: Any
) -> None:
    issue = make_issue(api_org, assignee=engineer)
    r = call("POST", f"issues/{issue.key}/checkout", agent_key(designer))
    assert r.status_code == 403 and "engineer" in r.json()["error"]
    issue.refresh_from_db()
    assert issue.status == Status.TODO and issue.assignee == engineer


def test_it_lets_the_ceo_take_over(call: Any, api_org: Org, ceo: Agent, engineer: Agent, agent_key: Any) -> None:
    issue = make_issue(api_org, assignee=engineer)
    r = call("POST", f"issues/{issue.key}/checkout", agent_key(ceo))
    assert r.status_code == 200 and r.json()["assignee"] == "ceo"
    activity = Activity.objects.get(verb="checked out", object_id=issue.key)
    assert activity.details["previous_assignee"] == "engineer"


def test_it_tells_a_board_key_it_is_not_an_agent(call: Any, api_org: Org, board_key: str) -> None:
    issue = make_issue(api_org)
    r = call("POST", f"issues/{issue.key}/checkout", board_key)
    assert r.status_code == 400 and r.json()["code"] == "not_an_agent"
    issue.refresh_from_db()
    assert issue.status == Status.TODO and issue.assignee_id is None
    assert not Activity.objects.filter(verb="checked out", object_id=issue.key).exists()


def test_it_refuses_non_todo_and_missing_issues(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    done = make_issue(api_org)
    Issue.objects.filter(pk=done.pk).update(status=Status.DONE)
    key = agent_key(engineer)
    assert call("POST", f"issues/{done.key}/checkout", key).status_code == 409
    assert call("POST", "issues/API-999/checkout", key).status_code == 404
    done.refresh_from_db()
    assert done.status == Status.DONE and done.assignee_id is None


def test_it_releases_for_the_holder(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    issue = make_issue(api_org)
    key = agent_key(engineer)
    call("POST", f"issues/{issue.key}/checkout", key)
    r = call("POST", f"issues/{issue.key}/release", key, {"comment": "Need a designer first"})
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "todo" and r.json()["assignee"] is None
    issue.refresh_from_db()
    assert issue.status == Status.TODO and issue.assignee is None
    assert issue.comments.get().body == "Need a designer first"
    assert Activity.objects.filter(verb="released", object_id=issue.key).exists()
    assert Event.objects.filter(type="issue_updated", data__key=issue.key, data__from_status="in_progress").exists()


def test_it_releases_without_a_body(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    issue = make_issue(api_org)
    key = agent_key(engineer)
    call("POST", f"issues/{issue.key}/checkout", key)
    assert call("POST", f"issues/{issue.key}/release", key).status_code == 200
    issue.refresh_from_db()
    assert issue.status == Status.TODO and issue.assignee_id is None


def test_it_lets_managers_ceo_and_board_release_but_not_peers(
    call: Any, api_org: Org, ceo: Agent, designer: Agent, agent_key: Any, board_key: str
) -> None:
    lead = make_agent(api_org, slug="lead", reports_to=ceo)
    junior = make_agent(api_org, slug="junior", reports_to=lead)
    for releaser, expected in ((designer, 403), (lead, 200), (ceo, 200), (None, 200)):
        issue = make_issue(api_org)
        assert call("POST", f"issues/{issue.key}/checkout", agent_key(junior)).status_code == 200
        key = board_key if releaser is None else agent_key(releaser)
        r = call("POST", f"issues/{issue.key}/release", key)
        assert r.status_code == expected, (releaser, r.json())
        issue.refresh_from_db()
        if expected == 403:  # the peer's refusal leaves the junior holding the issue
            assert issue.status == Status.IN_PROGRESS and issue.assignee == junior
            assert not Activity.objects.filter(verb="released", object_id=issue.key).exists()
        else:
            assert issue.status == Status.TODO and issue.assignee_id is None


def test_it_refuses_to_release_an_issue_nobody_holds(call: Any, api_org: Org, board_key: str) -> None:
    issue = make_issue(api_org)
    r = call("POST", f"issues/{issue.key}/release", board_key)
    assert r.status_code == 409 and r.json()["code"] == "not_held"
    issue.refresh_from_db()
    assert issue.status == Status.TODO and issue.assignee_id is None
    assert not Activity.objects.filter(verb="released", object_id=issue.key).exists()


def _race(keys: list[str], issue_keys: list[str]) -> list[tuple[str, str, int]]:
    """Every key tries every issue at once (one thread per key); returns (key, issue, status)."""
    results: list[tuple[str, str, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(keys))

    def worker(raw: str) -> None:
        client = Client()
        barrier.wait()
        try:
            for issue_key in issue_keys:
                r = client.post(f"/api/v1/issues/{issue_key}/checkout", headers={"authorization": f"Bearer {raw}"})
                with lock:
                    results.append((raw, issue_key, r.status_code))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_many_concurrent_checkouts_win(api_org: Org, ceo: Agent, agent_key: Any) -> None:
    agents = [make_agent(api_org, slug=f"racer-{n}", reports_to=ceo) for n in range(8)]
    owner = {agent_key(a): a for a in agents}
    issue = make_issue(api_org)
    results = _race(list(owner), [issue.key])
    assert Counter(status for _, _, status in results) == {200: 1, 409: 7}
    winner = next(owner[k] for k, _, s in results if s == 200)
    issue.refresh_from_db()
    assert issue.status == Status.IN_PROGRESS and issue.assignee_id == winner.pk


@pytest.mark.django_db(transaction=True)
def test_it_never_double_claims_a_batch(api_org: Org, ceo: Agent, agent_key: Any) -> None:
    agents = [make_agent(api_org, slug=f"racer-{n}", reports_to=ceo) for n in range(6)]
    issues = [make_issue(api_org, title=f"Race {n}") for n in range(10)]
    results = _race([agent_key(a) for a in agents], [i.key for i in issues])
    assert {s for _, _, s in results} <= {200, 409}
    wins = Counter(issue_key for _, issue_key, s in results if s == 200)
    assert wins == dict.fromkeys((i.key for i in issues), 1)
    assert Issue.objects.filter(pk__in=[i.pk for i in issues], status=Status.IN_PROGRESS).count() == 10
    # The activity log agrees: one checkout per issue.
    assert Activity.objects.filter(verb="checked out").count() == 10

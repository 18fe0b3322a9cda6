from __future__ import annotations

from typing import Any

from django.test import override_settings

from agents.models import Agent
from issues.models import Issue
from orgs.models import Org
from tests.factories import make_issue


def test_it_answers_malformed_json_with_400(call: Any, api_org: Org, board_key: str) -> None:
    r = call("POST", "issues", board_key, data=b'{"title": "x",', content_type="application/json")
    assert r.status_code == 400
    assert r["Content-Type"] == "application/json" and r.json()["code"] == "malformed_json"


def test_it_refuses_a_json_body_that_is_not_an_object(call: Any, api_org: Org, board_key: str) -> None:
    for raw in (b"[1, 2]", b'"title"', b"null", b"42"):
        r = call("POST", "issues", board_key, data=raw, content_type="application/json")
        assert r.status_code == 400, raw
        assert r.json()["code"] in {"invalid", "malformed_json"}
    assert not Issue.objects.exists()


def test_it_refuses_non_json_content_with_415(call: Any, api_org: Org, board_key: str) -> None:
    r = call("POST", "issues", board_key, data=b"title=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    r = call("POST", "issues", board_key, data=b"title", content_type="text/plain")
    assert r.status_code == 415
    assert not Issue.objects.exists()


def test_it_refuses_a_body_without_content_type_with_415(client: Any, api_org: Org, board_key: str) -> None:
    r = client.generic(
        "POST", "/api/v1/issues", b'{"title": "x"}', content_type="", headers={"authorization": f"Bearer {board_key}"}
    )
    assert r.status_code == 415
    assert not Issue.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_it_refuses_a_body_over_the_limit_with_413(call: Any, api_org: Org, board_key: str) -> None:
    r = call("POST", "issues", board_key, {"title": "Big", "description": "x" * 2000})
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert not Issue.objects.exists()
    assert call("POST", "issues", board_key, {"title": "Small"}).status_code == 201


def test_it_names_the_field_of_a_wrong_type(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any, board_key: str
) -> None:
    issue = make_issue(api_org)
    cases = [
        ("POST", "issues", {"title": 123}, "title"),
        ("POST", "issues", {"title": "x", "priority": "high"}, "priority"),
        ("POST", "issues", {"title": "x", "priority": "3"}, "priority"),
        ("POST", "issues", {"title": "x", "labels": "bug"}, "labels"),
        ("POST", "issues", {"title": "x", "assignee": 7}, "assignee"),
        ("POST", "issues", {"title": "x", "work_block": "one"}, "work_block"),
        ("PATCH", f"issues/{issue.key}", {"status": "finished"}, "status"),
        ("PATCH", f"issues/{issue.key}", {"priority": True}, "priority"),
        ("PATCH", f"issues/{issue.key}", {"comment": ["x"]}, "comment"),
        ("POST", f"issues/{issue.key}/comments", {"body": {"text": "x"}}, "body"),
        ("POST", "heartbeat", {"note": 5}, "note"),
    ]
    for method, path, payload, field in cases:
        r = call(method, path, agent_key(engineer) if path == "heartbeat" else board_key, payload)
        assert r.status_code == 400, (path, payload)
        assert r.json()["field"] == field, (payload, r.json())
        assert field in r.json()["error"]


def test_it_refuses_unknown_fields_with_a_hint(call: Any, api_org: Org, board_key: str) -> None:
    r = call("POST", "issues", board_key, {"title": "x", "asignee": "engineer"})
    assert r.status_code == 400
    assert r.json()["field"] == "asignee" and "Did you mean 'assignee'?" in r.json()["error"]
    assert not Issue.objects.exists()


def test_it_answers_404_and_405_in_the_error_shape(call: Any, api_org: Org, board_key: str) -> None:
    r = call("GET", "issues/API-404", board_key)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = call("PUT", "issues", board_key, {"title": "x"})
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


def test_it_writes_activity_and_events_for_every_mutation(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any, board_key: str
) -> None:
    from orgs.models import Activity, Event

    raw = agent_key(engineer)
    steps: list[tuple[str, str, str, dict[str, Any] | None]] = [
        ("board", "POST", "issues", {"title": "Audited", "assignee": "engineer"}),
        ("agent", "PATCH", "issues/API-1", {"priority": 2}),
        ("agent", "POST", "issues/API-1/checkout", None),
        ("agent", "POST", "issues/API-1/comments", {"body": "hi"}),
        ("agent", "POST", "issues/API-1/release", None),
        ("board", "POST", "labels", {"name": "audited"}),
        ("board", "POST", "agents", {"slug": "new-one"}),
        ("board", "PATCH", "agents/new-one", {"max_turns": 5}),
        ("board", "POST", "agents/new-one/pause", None),
        ("board", "POST", "agents/new-one/resume", None),
        ("board", "DELETE", "issues/API-1", None),
    ]
    for who, method, path, payload in steps:
        activities, events = Activity.objects.count(), Event.objects.count()
        r = call(method, path, board_key if who == "board" else raw, payload)
        assert r.status_code in {200, 201, 204}, (path, r.content)
        assert Activity.objects.count() > activities, path
        assert Event.objects.count() > events, path


def test_it_answers_400_not_500_for_digits_that_are_not_numbers(call: Any, api_org: Org, board_key: str) -> None:
    # "²".isdigit() is True but int("²") raises: such input must be a clear 400.
    response = call("GET", "/api/v1/issues?work_block=%C2%B2", board_key)
    assert response.status_code == 400
    assert response.json()["field"] == "work_block"

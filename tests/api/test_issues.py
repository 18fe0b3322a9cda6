from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from rest_framework import serializers

from agents.models import Agent
from api.serializers.issues import IssueOutput, issue_row, issue_rows
from issues.models import Issue, Status
from issues.relations import relation_add
from issues.services import issue_transition
from orgs.actors import Actor
from orgs.models import Activity, Event, Org
from tests.factories import make_comment, make_issue, make_label, make_run, make_work_block


def test_it_lists_issues_in_the_envelope(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    make_issue(api_org, title="First", priority=1)
    make_issue(api_org, title="Second", priority=4, assignee=engineer)
    r = call("GET", "issues", agent_key(engineer))
    assert r.status_code == 200
    assert r["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"results", "count", "limit", "offset", "next"}
    assert body["count"] == 2 and body["next"] is None and body["offset"] == 0
    assert [i["title"] for i in body["results"]] == ["Second", "First"]  # urgent first
    assert body["results"][0]["assignee"] == "engineer"


def test_it_returns_an_empty_list_not_null(call: Any, api_org: Org, board_key: str) -> None:
    body = call("GET", "issues", board_key).json()
    assert body["results"] == [] and body["count"] == 0


def test_it_pages_with_limit_offset_and_next(call: Any, api_org: Org, board_key: str) -> None:
    for n in range(5):
        make_issue(api_org, title=f"Issue {n}")
    first = call("GET", "issues?limit=2", board_key).json()
    assert first["count"] == 5 and len(first["results"]) == 2
    assert first["next"].endswith("/api/v1/issues?limit=2&offset=2")
    last = call("GET", "issues?limit=2&offset=4", board_key).json()
    assert last["count"] == 5 and len(last["results"]) == 1 and last["next"] is None
    past = call("GET", "issues?limit=2&offset=10", board_key).json()
    assert past["results"] == [] and past["count"] == 5


def test_it_refuses_bad_paging_values(call: Any, api_org: Org, board_key: str) -> None:
    for query, field in (("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit"), ("offset=-1", "offset")):
        r = call("GET", f"issues?{query}", board_key)
        assert r.status_code == 400, query
        assert r.json()["field"] == field


def test_it_filters_issues(call: Any, api_org: Org, engineer: Agent, board_key: str) -> None:
    bug = make_label(api_org, name="bug")
    block = make_work_block(api_org)
    parent = make_issue(api_org, title="Parent epic")
    a = make_issue(api_org, title="Fix the login form", assignee=engineer, labels=["bug"], parent=parent)
    b = make_issue(api_org, title="Write docs", description="mention the login", work_block=block)
    Issue.objects.filter(pk=b.pk).update(status=Status.DONE)
    assert bug.pk

    def keys(query: str) -> list[str]:
        r = call("GET", f"issues?{query}", board_key)
        assert r.status_code == 200, r.json()
        return sorted(i["key"] for i in r.json()["results"])

    assert keys("status=done") == [b.key]
    assert keys("status=todo,done") == sorted([a.key, b.key, parent.key])
    assert keys("status=todo&status=done") == sorted([a.key, b.key, parent.key])
    assert keys("status=open") == sorted([a.key, parent.key])
    assert keys("assignee=engineer") == [a.key]
    assert keys("assignee=none") == sorted([b.key, parent.key])
    assert keys("label=BUG") == [a.key]
    assert keys(f"work_block={block.pk}") == [b.key]
    assert keys(f"parent={parent.key.lower()}") == [a.key]
    assert keys("q=login") == sorted([a.key, b.key])
    assert keys(f"q={a.key}") == [a.key]


def test_it_names_the_bad_filter(call: Any, api_org: Org, board_key: str) -> None:
    for query, field in (("status=nope", "status"), ("assignee=ghost", "assignee"), ("work_block=x", "work_block")):
        r = call("GET", f"issues?{query}", board_key)
        assert r.status_code == 400, query
        assert r.json()["field"] == field


def test_it_filters_assignee_me_for_agents_only(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any, board_key: str
) -> None:
    mine = make_issue(api_org, assignee=engineer)
    make_issue(api_org)
    body = call("GET", "issues?assignee=me", agent_key(engineer)).json()
    assert [i["key"] for i in body["results"]] == [mine.key]
    assert call("GET", "issues?assignee=me", board_key).status_code == 400


def test_it_gets_an_issue_with_comments_children_relations_and_runs(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any
) -> None:
    issue = make_issue(api_org, title="Build it", description="Details", acceptance_criteria="- works")
    child = make_issue(api_org, title="A part", parent=issue, assignee=engineer)
    blocker = make_issue(api_org, title="Blocker")
    relation_add(actor=Actor.system(), source=blocker, target=issue, kind="blocks")
    make_comment(issue, body="Looks good", actor=Actor.for_agent(engineer))
    make_run(engineer, issue=issue, status="completed", tokens_in=100, tokens_out=20, cost_usd=Decimal("0.5"))
    make_run(engineer, issue=issue, status="failed", tokens_in=1, cost_usd=Decimal("0.25"))
    r = call("GET", f"issues/{issue.key.lower()}", agent_key(engineer))
    assert r.status_code == 200
    body = r.json()
    assert body["key"] == issue.key and body["description"] == "Details" and body["acceptance_criteria"] == "- works"
    assert body["allowed_transitions"] == ["in_progress", "blocked", "cancelled"]
    assert [c["body"] for c in body["comments"]] == ["Looks good"]
    assert body["comments"][0]["author"] == "engineer" and body["comments"][0]["author_kind"] == "agent"
    assert body["children"] == [{"key": child.key, "title": "A part", "status": "todo", "assignee": "engineer"}]
    assert body["relations"] == [{"kind": "blocked_by", "key": blocker.key, "title": "Blocker", "status": "todo"}]
    assert body["runs"] == {"count": 2, "last_status": "failed", "tokens": 121, "cost_usd": 0.75}
    blocked = call("GET", f"issues/{blocker.key}", agent_key(engineer)).json()
    assert blocked["relations"][0]["kind"] == "blocks"


def drf_rendering(issue: Issue) -> Any:
    """IssueOutput's fields rendered by DRF itself, field by field: the reference for the fast builders."""
    return json.loads(json.dumps(serializers.Serializer.to_representation(IssueOutput(), issue)))


def test_it_renders_rows_like_the_serializer(api_org: Org, engineer: Agent) -> None:
    """The fast row builders and DRF's rendering of IssueOutput's fields (which drive the schema) agree."""
    make_label(api_org, name="ui")
    parent = make_issue(api_org, title="Parent")
    issue = make_issue(api_org, title="Row", assignee=engineer, parent=parent, labels=["ui"], priority=2)
    fresh = Issue.objects.select_related("assignee", "parent").get(pk=issue.pk)
    expected = drf_rendering(fresh)
    assert issue_row(fresh) == expected and IssueOutput(fresh).data == expected
    rows = {r["key"]: r for r in issue_rows(Issue.objects.filter(org=api_org))}
    assert rows[issue.key] == expected
    assert drf_rendering(parent) == rows[parent.key]


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    """The OpenAPI schema as served, generated once for the module."""
    with django_db_blocker.unblock():
        return Client().get("/api/schema/?format=json").json()


def declared(schema: dict[str, Any], node: dict[str, Any], value: Any) -> dict[str, Any]:
    """``node`` with references followed; of a nullable choice, the branch that is not null."""
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = node["allOf"][0]
        elif "oneOf" in node or "anyOf" in node:
            node = next(n for n in node.get("oneOf") or node["anyOf"] if n.get("type") != "null")
        else:
            return node


def assert_keys_as_declared(schema: dict[str, Any], node: dict[str, Any], value: Any, where: str) -> int:
    """Every object in ``value`` has exactly the properties the schema ``node`` declares; returns objects seen."""
    node = declared(schema, node, value)
    if value is None:
        return 0
    if "properties" in node:
        assert set(value) == set(node["properties"]), where
        return 1 + sum(
            assert_keys_as_declared(schema, node["properties"][k], v, f"{where}.{k}") for k, v in value.items()
        )
    if node.get("type") == "array":
        return sum(assert_keys_as_declared(schema, node["items"], v, f"{where}[{i}]") for i, v in enumerate(value))
    return 0


def test_it_answers_with_the_keys_the_schema_declares(
    call: Any, api_org: Org, engineer: Agent, ceo: Agent, agent_key: Any, schema: dict[str, Any]
) -> None:
    make_label(api_org, name="ui")
    issue = make_issue(api_org, title="Full", assignee=engineer, labels=["ui"])
    make_issue(api_org, title="A part", parent=issue)
    relation_add(actor=Actor.system(), source=make_issue(api_org, title="Blocker"), target=issue, kind="blocks")
    make_comment(issue, body="A note")
    make_run(engineer, issue=issue, status="completed")
    todo = make_issue(api_org, title="Free")
    key = agent_key(ceo)
    # (path, method, status, answer, objects in it: the detail holds a comment, a child, a relation, the runs)
    answers = [
        ("/api/v1/issues/{key}", "get", "200", call("GET", f"issues/{issue.key}", key), 5),
        ("/api/v1/issues", "get", "200", call("GET", "issues", key), 1 + 4),
        ("/api/v1/issues", "post", "201", call("POST", "issues", key, {"title": "New"}), 2),
        ("/api/v1/issues/{key}", "patch", "200", call("PATCH", f"issues/{issue.key}", key, {"priority": 2}), 5),
        ("/api/v1/issues/{key}/checkout", "post", "200", call("POST", f"issues/{todo.key}/checkout", key), 1),
        ("/api/v1/issues/{key}/release", "post", "200", call("POST", f"issues/{todo.key}/release", key, {}), 1),
    ]
    for path, method, code, response, objects in answers:
        assert response.status_code == int(code), (path, method, response.json())
        node = schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]
        assert assert_keys_as_declared(schema, node, response.json(), f"{method} {path}") == objects, (path, method)


def test_it_creates_an_issue(call: Any, api_org: Org, engineer: Agent, ceo: Agent, agent_key: Any) -> None:
    make_label(api_org, name="backend")
    parent = make_issue(api_org, title="Epic")
    r = call(
        "POST",
        "issues",
        agent_key(ceo),
        {
            "title": "  Add   the export ",
            "description": "CSV",
            "assignee": "engineer",
            "parent": parent.key,
            "priority": 3,
            "type": "feature",
            "labels": ["backend"],
            "acceptance_criteria": "- a file",
        },
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["title"] == "Add the export" and body["assignee"] == "engineer" and body["parent"] == parent.key
    assert body["priority"] == 3 and body["type"] == "feature" and body["labels"] == ["backend"]
    assert body["created_by"] == "ceo" and body["status"] == "todo"
    assert body["key"] == f"API-{parent.number + 1}"
    assert Activity.objects.filter(verb="created", object_id=body["key"]).exists()
    assert Event.objects.filter(type="issue_created", data__key=body["key"]).exists()


def test_it_refuses_a_duplicate_title_with_the_existing_key(call: Any, api_org: Org, board_key: str) -> None:
    first = make_issue(api_org, title="Fix the login")
    r = call("POST", "issues", board_key, {"title": "fix  THE login"})
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate" and r.json()["existing_key"] == first.key


def test_it_requires_a_title_and_known_references(call: Any, api_org: Org, board_key: str) -> None:
    for body, field in (
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x", "assignee": "ghost"}, "assignee"),
        ({"title": "x", "parent": "API-999"}, "parent"),
        ({"title": "x", "labels": ["nope"]}, "labels"),
        ({"title": "x", "work_block": 999}, "work_block"),
        ({"title": "x", "type": "saga"}, "type"),
        ({"title": "x", "priority": 9}, "priority"),
    ):
        r = call("POST", "issues", board_key, body)
        assert r.status_code == 400, body
        assert r.json()["field"] == field, (body, r.json())
    assert not Issue.objects.filter(org=api_org).exists()


def test_it_updates_fields_status_and_comment_together(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any
) -> None:
    make_label(api_org, name="ui")
    issue = make_issue(api_org, title="Old", assignee=engineer)
    before = Event.objects.count()
    r = call(
        "PATCH",
        f"issues/{issue.key}",
        agent_key(engineer),
        {"title": "New", "priority": 2, "labels": ["ui"], "status": "in_progress", "comment": "Starting now"},
    )
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["title"] == "New" and body["priority"] == 2 and body["labels"] == ["ui"]
    assert body["status"] == "in_progress" and body["started_at"] is not None
    assert [c["body"] for c in body["comments"]] == ["Starting now"]
    assert Event.objects.count() > before
    assert Activity.objects.filter(verb="moved", object_id=issue.key).exists()


def test_it_refuses_an_illegal_move_listing_the_allowed_ones_and_changes_nothing(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any
) -> None:
    issue = make_issue(api_org, title="Stay", assignee=engineer)
    r = call(
        "PATCH", f"issues/{issue.key}", agent_key(engineer), {"title": "Changed", "status": "done", "comment": "x"}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "illegal_transition" and r.json()["allowed"] == ["in_progress", "blocked", "cancelled"]
    issue.refresh_from_db()
    assert issue.title == "Stay" and issue.status == "todo" and not issue.comments.exists()


def test_it_unassigns_with_empty_or_null(call: Any, api_org: Org, engineer: Agent, board_key: str) -> None:
    for value in ("", None):
        issue = make_issue(api_org, assignee=engineer)
        r = call("PATCH", f"issues/{issue.key}", board_key, {"assignee": value})
        assert r.status_code == 200 and r.json()["assignee"] is None


def test_it_moves_an_issue_into_a_work_block_and_reassigns(
    call: Any, api_org: Org, engineer: Agent, qa: Agent, board_key: str
) -> None:
    block = make_work_block(api_org)
    issue = make_issue(api_org, assignee=engineer)
    r = call("PATCH", f"issues/{issue.key}", board_key, {"work_block": block.pk, "assignee": "qa"})
    assert r.status_code == 200 and r.json()["work_block"] == block.pk and r.json()["assignee"] == "qa"
    r = call("PATCH", f"issues/{issue.key}", board_key, {"work_block": None})
    assert r.json()["work_block"] is None


def test_it_deletes_for_board_and_ceo_only(
    call: Any, api_org: Org, ceo: Agent, engineer: Agent, agent_key: Any, board_key: str
) -> None:
    a = make_issue(api_org, assignee=engineer)
    b = make_issue(api_org)
    r = call("DELETE", f"issues/{a.key}", agent_key(engineer))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert call("DELETE", f"issues/{a.key}", agent_key(ceo)).status_code == 204
    assert call("DELETE", f"issues/{b.key}", board_key).status_code == 204
    assert not Issue.objects.filter(pk__in=[a.pk, b.pk]).exists()
    assert Event.objects.filter(type="issue_deleted", data__key=a.key).exists()
    assert call("DELETE", f"issues/{a.key}", board_key).status_code == 404


def test_it_lists_in_a_constant_number_of_queries(
    call: Any, api_org: Org, engineer: Agent, board_key: str, django_assert_max_num_queries: Any
) -> None:
    make_label(api_org, name="a")
    make_label(api_org, name="b")
    parent = make_issue(api_org, title="Parent")
    for n in range(55):
        make_issue(api_org, title=f"Issue {n}", assignee=engineer, parent=parent, labels=["a", "b"])
    # auth (+ its once-a-minute last_used_at touch) + rows + labels; a short page needs no COUNT
    with django_assert_max_num_queries(4):
        body = call("GET", "issues?limit=500", board_key).json()
    assert body["count"] == 56 and all(r["labels"] == ["a", "b"] for r in body["results"] if r["parent"])
    # auth + the assignee lookup + rows + labels + count (the page is full)
    with django_assert_max_num_queries(5):
        assert len(call("GET", "issues?limit=10&status=todo&assignee=engineer", board_key).json()["results"]) == 10


def test_it_gets_an_issue_in_a_constant_number_of_queries(
    call: Any, api_org: Org, engineer: Agent, board_key: str, django_assert_max_num_queries: Any
) -> None:
    make_label(api_org, name="a")
    issue = make_issue(api_org, labels=["a"], assignee=engineer)
    for n in range(30):
        make_issue(api_org, title=f"Child {n}", parent=issue, assignee=engineer)
        make_comment(issue, body=f"c{n}", actor=Actor.for_agent(engineer))
        make_run(engineer, issue=issue, status="completed")
    # auth + touch, issue, labels, comments, children, relations, runs totals, last run: 9 whatever the size
    with django_assert_max_num_queries(9):
        body = call("GET", f"issues/{issue.key}", board_key).json()
    assert len(body["children"]) == 30 and len(body["comments"]) == 30 and body["runs"]["count"] == 30


def test_it_hides_other_orgs_issues(call: Any, api_org: Org, outsider: Agent, agent_key: Any) -> None:
    theirs = make_issue(outsider.org, title="Secret")
    mine = make_issue(api_org, title="Ours")
    key = agent_key(outsider)
    assert call("GET", f"issues/{mine.key}", key).status_code == 404
    assert call("PATCH", f"issues/{mine.key}", key, {"title": "x"}).status_code == 404
    assert call("POST", f"issues/{mine.key}/comments", key, {"body": "x"}).status_code == 404
    assert call("POST", f"issues/{mine.key}/checkout", key).status_code == 404
    assert [i["key"] for i in call("GET", "issues", key).json()["results"]] == [theirs.key]


def test_it_answers_409_evidence_required_when_an_agent_approves_without_evidence(
    api_org: Any, engineer: Any, qa: Any, call: Any, agent_key: Any
) -> None:
    issue = make_issue(api_org, assignee=engineer)
    issue_transition(actor=Actor.system(), issue=issue, to="in_progress")
    issue_transition(actor=Actor.system(), issue=issue, to="in_review")
    response = call("PATCH", f"/api/v1/issues/{issue.key}", agent_key(qa), json={"status": "done"})
    assert response.status_code == 409
    assert response.json()["code"] == "evidence_required"
    ok = call(
        "PATCH",
        f"/api/v1/issues/{issue.key}",
        agent_key(qa),
        json={"status": "done", "comment": "Verified: https://github.com/acme/app/pull/9 merged, 12 tests pass"},
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["status"] == "done"

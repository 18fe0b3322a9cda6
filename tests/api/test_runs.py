"""Runs over the API: list (filters, cursor pages, constant queries), one run in full, cancel; tenancy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from agents.models import Agent
from issues.models import Comment, CommentKind
from orgs.models import Org
from runners.models import Run, RunEvent, RunStatus
from tests.api.test_issues import assert_keys_as_declared
from tests.factories import make_issue, make_run


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        return Client().get("/api/schema/?format=json").json()


def _full_run(agent: Agent, **kw: Any) -> Run:
    issue = kw.pop("issue", None) or make_issue(agent.org, title="Build it", assignee=agent)
    run = make_run(
        agent,
        issue=issue,
        status=RunStatus.COMPLETED,
        prompt="=== SYSTEM (role) ===\nsecret sauce",
        diff="diff --git a/x b/x\n+hello\n",
        branch=f"mesa/{issue.key}-r1",
        tokens_in=100,
        tokens_out=20,
        tokens_cache_read=5,
        cost_usd=Decimal("0.012500"),
        **kw,
    )
    for seq, kind in enumerate(("text", "tool_use", "result"), start=1):
        RunEvent.objects.create(run=run, seq=seq, type=kind, data={"text": f"{kind} {seq}"})
    return run


def test_it_lists_runs_newest_first_with_usage(call: Any, engineer: Agent, qa: Agent, agent_key: Any) -> None:
    older = _full_run(engineer)
    newer = make_run(qa, status=RunStatus.RUNNING)
    r = call("GET", "runs", agent_key(qa))
    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == {"results", "limit", "next_cursor", "next"}
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    row = body["results"][1]
    assert older.issue is not None
    assert row["agent"] == "engineer" and row["issue"] == older.issue.key and row["status"] == "completed"
    assert row["tokens"] == {"input": 100, "output": 20, "cache_read": 5, "cache_write": 0, "total": 125}
    assert row["cost_usd"] == 0.0125 and row["branch"].startswith("mesa/")
    assert body["results"][0]["issue"] is None  # a heartbeat


def test_it_filters_runs_by_issue_agent_status_and_mode(
    call: Any, api_org: Org, engineer: Agent, qa: Agent, board_key: str
) -> None:
    issue = make_issue(api_org, title="One", assignee=engineer)
    a = make_run(engineer, issue=issue, status=RunStatus.FAILED)
    b = make_run(qa, issue=issue, status=RunStatus.COMPLETED, mode="review")
    c = make_run(engineer, status=RunStatus.COMPLETED, mode="heartbeat")

    def ids(query: str) -> list[int]:
        r = call("GET", f"runs?{query}", board_key)
        assert r.status_code == 200, r.content
        return [row["id"] for row in r.json()["results"]]

    assert ids(f"issue={issue.key.lower()}") == [b.pk, a.pk]
    assert ids("agent=engineer") == [c.pk, a.pk]
    assert ids("status=completed") == [c.pk, b.pk]
    assert ids("status=failed,completed&mode=task") == [a.pk]
    assert ids("mode=review,heartbeat") == [c.pk, b.pk]
    assert ids("issue=API-999") == []
    for query, field in (
        ("status=done", "status"),
        ("mode=cron", "mode"),
        ("cursor=x", "cursor"),
        ("limit=0", "limit"),
    ):
        r = call("GET", f"runs?{query}", board_key)
        assert r.status_code == 400 and r.json()["field"] == field, query


def test_it_reads_its_own_runs_with_agent_me(
    call: Any, engineer: Agent, qa: Agent, agent_key: Any, board_key: str
) -> None:
    mine = make_run(engineer, status=RunStatus.COMPLETED)
    make_run(qa, status=RunStatus.COMPLETED)
    assert [r["id"] for r in call("GET", "runs?agent=me", agent_key(engineer)).json()["results"]] == [mine.pk]
    assert call("GET", "runs?agent=me", board_key).status_code == 400


def test_it_pages_runs_with_a_cursor_that_new_runs_do_not_shift(call: Any, engineer: Agent, board_key: str) -> None:
    runs = [make_run(engineer, status=RunStatus.COMPLETED) for _ in range(5)]
    first = call("GET", "runs?limit=2", board_key).json()
    assert [r["id"] for r in first["results"]] == [runs[4].pk, runs[3].pk]
    assert first["next_cursor"] == str(runs[3].pk)
    make_run(engineer, status=RunStatus.COMPLETED)  # a new run lands meanwhile
    second = call("GET", first["next"].split("/api/v1/")[1], board_key).json()
    assert [r["id"] for r in second["results"]] == [runs[2].pk, runs[1].pk]
    last = call("GET", f"runs?limit=2&cursor={second['next_cursor']}", board_key).json()
    assert [r["id"] for r in last["results"]] == [runs[0].pk]
    assert last["next_cursor"] is None and last["next"] is None


def test_it_lists_runs_in_a_constant_number_of_queries(
    call: Any, api_org: Org, engineer: Agent, board_key: str, django_assert_num_queries: Any
) -> None:
    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert call("GET", "runs", board_key).status_code == 200
        return len(ctx.captured_queries)

    _full_run(engineer)
    queries()  # the key's first use of the minute records it: one write, not part of the list
    few = queries()
    for n in range(10):
        _full_run(engineer, issue=make_issue(api_org, title=f"Issue {n}"))
    assert queries() == few == 2  # the key, the page (no COUNT)
    with django_assert_num_queries(few):
        call("GET", "runs?agent=engineer&status=completed", board_key)


def test_it_shows_one_run_with_transcript_diff_and_prompt_to_its_agent(
    call: Any, engineer: Agent, agent_key: Any
) -> None:
    run = _full_run(engineer)
    body = call("GET", f"runs/{run.pk}", agent_key(engineer)).json()
    assert run.issue is not None
    assert [e["type"] for e in body["events"]] == ["text", "tool_use", "result"]
    assert body["events"][0]["data"] == {"text": "text 1"} and body["events_truncated"] is False
    assert body["diff"].startswith("diff --git") and body["branch"] == f"mesa/{run.issue.key}-r1"
    assert body["tokens"]["total"] == 125 and body["cost_usd"] == 0.0125
    assert body["prompt_visible"] is True and "secret sauce" in body["prompt"]


def test_it_shows_the_prompt_to_the_board_and_managers_but_not_to_peers(
    call: Any, ceo: Agent, engineer: Agent, qa: Agent, designer: Agent, agent_key: Any, board_key: str
) -> None:
    run = _full_run(engineer)
    for key, visible in (
        (board_key, True),
        (agent_key(ceo), True),
        (agent_key(designer), False),
        (agent_key(qa), False),
    ):
        body = call("GET", f"runs/{run.pk}", key).json()
        assert body["prompt_visible"] is visible
        assert (body["prompt"] is not None) is visible
        assert body["diff"]  # the outcome is everyone's to read


def test_it_answers_another_orgs_run_with_404(
    call: Any, engineer: Agent, outsider: Agent, agent_key: Any, board_key: str
) -> None:
    theirs = make_run(outsider, status=RunStatus.RUNNING)
    mine = make_run(engineer, status=RunStatus.RUNNING)
    for path in (f"runs/{theirs.pk}", f"runs/{theirs.pk}/cancel"):
        method = "POST" if path.endswith("cancel") else "GET"
        r = call(method, path, board_key)
        assert r.status_code == 404 and r.json()["code"] == "not_found", path
    assert theirs.pk not in [r["id"] for r in call("GET", "runs", board_key).json()["results"]]
    # The outsider's own key cannot reach this org's run either.
    assert call("GET", f"runs/{mine.pk}", agent_key(outsider)).status_code == 404
    assert call("POST", f"runs/{mine.pk}/cancel", agent_key(outsider)).status_code == 404
    assert [r["id"] for r in call("GET", "runs", agent_key(outsider)).json()["results"]] == [theirs.pk]
    for bad in ("0", "abc", "99999999999999999999999"):
        assert call("GET", f"runs/{bad}", board_key).status_code == 404
    assert call("GET", "runs", None).status_code == 401
    assert not Run.objects.get(pk=mine.pk).cancel_requested


def test_it_answers_with_the_keys_the_schema_declares(
    call: Any, engineer: Agent, ceo: Agent, agent_key: Any, board_key: str, schema: dict[str, Any]
) -> None:
    run = _full_run(engineer)
    queued = make_run(engineer, status=RunStatus.QUEUED)
    answers = [
        ("/api/v1/runs", "get", "200", call("GET", "runs", board_key), 1 + 2 * 2),
        ("/api/v1/runs/{run_id}", "get", "200", call("GET", f"runs/{run.pk}", board_key), 2 + 3),
        ("/api/v1/runs/{run_id}/cancel", "post", "200", call("POST", f"runs/{queued.pk}/cancel", board_key), 2),
    ]
    for path, method, code, response, objects in answers:
        assert response.status_code == int(code), (path, method, response.json())
        node = schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]
        assert assert_keys_as_declared(schema, node, response.json(), f"{method} {path}") == objects, (path, method)


# --- cancel ----------------------------------------------------------------------------------------------------


def test_it_cancels_a_queued_run_at_once_and_says_so_on_the_issue(
    call: Any, api_org: Org, engineer: Agent, board_key: str
) -> None:
    issue = make_issue(api_org, title="Stop me", assignee=engineer)
    run = make_run(engineer, issue=issue, status=RunStatus.QUEUED)
    r = call("POST", f"runs/{run.pk}/cancel", board_key, {"reason": "wrong approach"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "cancelled"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.finished_at is not None
    note = Comment.objects.get(issue=issue, kind=CommentKind.SYSTEM)
    assert f"Run {run.pk}" in note.body and "wrong approach" in note.body and "board key" in note.body
    again = call("POST", f"runs/{run.pk}/cancel", board_key)
    assert again.status_code == 409 and again.json()["code"] == "run_finished"


def test_it_asks_a_running_run_to_stop(call: Any, engineer: Agent, ceo: Agent, agent_key: Any) -> None:
    run = make_run(engineer, status=RunStatus.RUNNING, rerun_requested=True)
    r = call("POST", f"runs/{run.pk}/cancel", agent_key(ceo))
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "running" and r.json()["cancel_requested"] is True
    run.refresh_from_db()
    assert run.cancel_requested and not run.rerun_requested  # a cancelled run is not run again


def test_it_lets_only_the_board_and_the_managers_cancel(
    call: Any, api_org: Org, ceo: Agent, engineer: Agent, qa: Agent, designer: Agent, agent_key: Any
) -> None:
    from tests.factories import make_agent

    lead = make_agent(api_org, slug="lead", reports_to=ceo)
    junior = make_agent(api_org, slug="junior", reports_to=lead)
    run = make_run(junior, status=RunStatus.RUNNING)
    for agent in (junior, designer, qa, engineer):
        r = call("POST", f"runs/{run.pk}/cancel", agent_key(agent))
        assert r.status_code == 403 and r.json()["code"] == "not_your_run", agent.slug
    assert not Run.objects.get(pk=run.pk).cancel_requested
    assert call("POST", f"runs/{run.pk}/cancel", agent_key(lead)).status_code == 200
    other = make_run(junior, status=RunStatus.QUEUED, issue=make_issue(api_org, title="x"))
    assert call("POST", f"runs/{other.pk}/cancel", agent_key(ceo)).status_code == 200

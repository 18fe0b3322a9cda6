"""Work blocks and apex blocks over the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from agents.models import Agent
from blocks.models import ApexBlock, WorkBlock, WorkBlockStatus
from blocks.services import work_block_transition
from issues.models import Issue, Status
from orgs.actors import Actor
from orgs.models import Event, Org
from runners.models import RunStatus
from tests.factories import make_apex_block, make_issue, make_run, make_work_block

SYSTEM = Actor.system("tests")


def _active_block(org: Org, **kw: Any) -> WorkBlock:
    block = make_work_block(org, **kw)
    return work_block_transition(actor=SYSTEM, block=block, to=WorkBlockStatus.ACTIVE)


# --- work blocks: reads ---------------------------------------------------------------------------------------


def test_it_lists_work_blocks_with_the_alignment_score(
    call: Callable[..., Any], api_org: Org, engineer: Agent, agent_key: Callable[[Agent], str]
) -> None:
    goal = make_apex_block(api_org, title="Grow")
    aligned = _active_block(api_org, title="Aligned", apex_block=goal)
    make_work_block(api_org, title="Proposed")
    make_issue(api_org, work_block=aligned)
    body = call("GET", "work-blocks", agent_key(engineer)).json()
    assert [b["title"] for b in body["results"]] == ["Proposed", "Aligned"]
    first = body["results"][1]
    assert first["apex_block"] == goal.pk
    assert first["apex_block_title"] == "Grow"
    assert first["issue_count"] == 1
    assert body["alignment"] == {"aligned": 1, "total": 1, "percent": 100}
    assert body["count"] == 2


def test_it_filters_work_blocks_by_status(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    _active_block(api_org, title="Now")
    make_work_block(api_org, title="Later")
    assert [b["title"] for b in call("GET", "work-blocks?status=active", board_key).json()["results"]] == ["Now"]
    assert len(call("GET", "work-blocks?status=active,proposed", board_key).json()["results"]) == 2
    resp = call("GET", "work-blocks?status=bogus", board_key)
    assert resp.status_code == 400
    assert resp.json()["field"] == "status"


def test_it_lists_an_empty_org_with_no_alignment(call: Callable[..., Any], board_key: str) -> None:
    body = call("GET", "work-blocks", board_key).json()
    assert body["results"] == []
    assert body["alignment"] == {"aligned": 0, "total": 0, "percent": None}
    assert call("GET", "alignment", board_key).json() == {"aligned": 0, "total": 0, "percent": None}


def test_it_lists_many_blocks_in_a_bounded_number_of_queries(
    call: Callable[..., Any], api_org: Org, board_key: str, django_assert_max_num_queries: Any
) -> None:
    goals = [make_apex_block(api_org) for _ in range(5)]
    for i in range(40):
        block = make_work_block(api_org, apex_block=goals[i % 5])
        make_issue(api_org, work_block=block)
    with django_assert_max_num_queries(6):
        body = call("GET", "work-blocks", board_key).json()
    assert len(body["results"]) == 40
    with django_assert_max_num_queries(6):
        body = call("GET", "apex-blocks", board_key).json()
    assert [g["work_block_count"] for g in body["results"]] == [8] * 5


def test_it_gets_a_block_with_issues_and_stats(
    call: Callable[..., Any], api_org: Org, engineer: Agent, board_key: str, django_assert_max_num_queries: Any
) -> None:
    block = _active_block(api_org, title="Sprint 1", goal="Ship it")
    done = make_issue(api_org, title="Done one", work_block=block, assignee=engineer)
    Issue.objects.filter(pk=done.pk).update(status=Status.DONE)
    cancelled = make_issue(api_org, title="Dropped", work_block=block)
    Issue.objects.filter(pk=cancelled.pk).update(status=Status.WONT_DO)
    make_issue(api_org, title="Open one", work_block=block)
    make_issue(api_org, title="Elsewhere")
    finished = {"status": RunStatus.COMPLETED}
    make_run(engineer, issue=done, cost_usd=Decimal("1.25"), tokens_in=100, tokens_out=50, **finished)
    make_run(engineer, issue=done, cost_usd=Decimal("0.50"), tokens_in=10, **finished)
    make_run(engineer, cost_usd=Decimal("9"), **finished)  # not on a block issue
    with django_assert_max_num_queries(6):
        resp = call("GET", f"work-blocks/{block.pk}", board_key)
    body = resp.json()
    assert body["title"] == "Sprint 1"
    assert body["status"] == "active"
    assert {i["title"] for i in body["issues"]} == {"Done one", "Dropped", "Open one"}
    assert next(i for i in body["issues"] if i["title"] == "Done one")["assignee"] == "engineer"
    stats = body["stats"]
    assert stats["cost_usd"] == pytest.approx(1.75)
    assert stats["runs"] == 2
    assert stats["tokens"] == 160
    assert (stats["planned"], stats["completed"], stats["cancelled"], stats["open"]) == (3, 1, 1, 1)
    assert stats["cycle_time_s"] is not None and stats["cycle_time_s"] >= 0


def test_it_reports_cycle_time_from_activation_to_completion(
    call: Callable[..., Any], api_org: Org, board_key: str
) -> None:
    block = make_work_block(api_org)
    start = timezone.now() - timedelta(days=3)
    WorkBlock.objects.filter(pk=block.pk).update(
        status=WorkBlockStatus.SHIPPED, activated_at=start, completed_at=start + timedelta(hours=5)
    )
    assert call("GET", f"work-blocks/{block.pk}", board_key).json()["stats"]["cycle_time_s"] == 5 * 3600
    proposed = make_work_block(api_org)
    assert call("GET", f"work-blocks/{proposed.pk}", board_key).json()["stats"]["cycle_time_s"] is None


def test_it_answers_404_for_unknown_or_malformed_ids(call: Callable[..., Any], board_key: str) -> None:
    for path in ("work-blocks/999", "work-blocks/abc", "work-blocks/0", f"work-blocks/{2**70}", "apex-blocks/x"):
        resp = call("GET", path, board_key)
        assert resp.status_code == 404, path
        assert resp.json()["code"] == "not_found"


# --- work blocks: writes --------------------------------------------------------------------------------------


def test_it_lets_any_agent_propose_a_block(
    call: Callable[..., Any], api_org: Org, designer: Agent, agent_key: Callable[[Agent], str]
) -> None:
    goal = make_apex_block(api_org)
    resp = call(
        "POST",
        "work-blocks",
        agent_key(designer),
        {"title": "Polish", "goal": "Nicer UI", "north_star_metric": "NPS", "apex_block": goal.pk},
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "proposed"
    assert body["apex_block"] == goal.pk
    assert body["issues"] == []
    assert body["stats"]["planned"] == 0
    assert Event.objects.filter(type="work_block_updated", data__id=body["id"]).exists()


def test_it_refuses_bad_block_input(call: Callable[..., Any], api_org: Org, other_org: Org, board_key: str) -> None:
    foreign = make_apex_block(other_org)
    for body, field in (
        ({}, "title"),
        ({"title": "  "}, "title"),
        ({"title": "x", "apex_block": foreign.pk}, "apex_block"),
        ({"title": "x", "apex_block": 999999}, "apex_block"),
        ({"title": "x", "apex_block": 2**64}, "apex_block"),
        ({"title": "x", "apex_block": "1"}, "apex_block"),
        ({"title": "x", "colour": "red"}, "colour"),
    ):
        resp = call("POST", "work-blocks", board_key, body)
        assert resp.status_code == 400, body
        assert resp.json()["field"] == field, resp.json()


def test_it_moves_a_block_through_its_lifecycle(
    call: Callable[..., Any], api_org: Org, ceo: Agent, agent_key: Callable[[Agent], str]
) -> None:
    from approvals.models import Approval
    from approvals.services import approval_resolve

    block = make_work_block(api_org)
    key = agent_key(ceo)
    # Activation is a human gate: the CEO's request opens an approval (202) and changes only the title.
    resp = call("PATCH", f"work-blocks/{block.pk}", key, {"status": "active", "title": "Renamed"})
    assert resp.status_code == 202, resp.content
    body = resp.json()
    assert body["work_block"]["status"] == "proposed" and body["work_block"]["title"] == "Renamed"
    approval = Approval.objects.get(pk=body["approval_requested"]["id"])
    assert approval.kind == "work_block_activate" and approval.requested_by_agent_id == ceo.pk
    again = call("PATCH", f"work-blocks/{block.pk}", key, {"status": "active"})
    assert again.status_code == 202 and again.json()["approval_requested"]["id"] == approval.pk
    approval_resolve(actor=Actor.human(label="board"), approval=approval, decision="approved")
    detail = call("GET", f"work-blocks/{block.pk}", key).json()
    assert detail["status"] == "active" and detail["activated_at"] is not None
    assert call("PATCH", f"work-blocks/{block.pk}", key, {"status": "ready"}).json()["status"] == "ready"
    ship = call("PATCH", f"work-blocks/{block.pk}", key, {"status": "shipped"})
    assert ship.status_code == 202
    approval_resolve(
        actor=Actor.human(label="board"),
        approval=Approval.objects.get(pk=ship.json()["approval_requested"]["id"]),
        decision="approved",
    )
    body = call("GET", f"work-blocks/{block.pk}", key).json()
    assert body["status"] == "shipped"
    assert body["completed_at"] is not None


def test_it_refuses_an_illegal_move_and_keeps_the_fields(
    call: Callable[..., Any], api_org: Org, board_key: str
) -> None:
    block = make_work_block(api_org, title="Before")
    resp = call("PATCH", f"work-blocks/{block.pk}", board_key, {"status": "shipped", "title": "After"})
    assert resp.status_code == 409
    assert resp.json()["code"] == "illegal_transition"
    assert resp.json()["allowed"] == ["active", "cancelled"]
    block.refresh_from_db()
    assert (block.title, block.status) == ("Before", "proposed")
    resp = call("PATCH", f"work-blocks/{block.pk}", board_key, {"status": "done"})
    assert resp.status_code == 400
    assert resp.json()["field"] == "status"


def test_it_refuses_a_second_active_block(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    _active_block(api_org)
    second = make_work_block(api_org)
    resp = call("PATCH", f"work-blocks/{second.pk}", board_key, {"status": "active"})
    assert resp.status_code == 409
    assert resp.json()["code"] == "active_block_exists"
    assert WorkBlock.objects.filter(org=api_org, status="active").count() == 1


def test_it_lets_only_the_board_and_the_ceo_change_blocks(
    call: Callable[..., Any], api_org: Org, engineer: Agent, agent_key: Callable[[Agent], str]
) -> None:
    block = make_work_block(api_org, title="Mine?")
    issue = make_issue(api_org, assignee=engineer)
    key = agent_key(engineer)
    for method, path, body in (
        ("PATCH", f"work-blocks/{block.pk}", {"title": "Hijacked"}),
        ("PATCH", f"work-blocks/{block.pk}", {"status": "active"}),
        ("PATCH", f"work-blocks/{block.pk}", {}),
        ("POST", f"work-blocks/{block.pk}/issues", {"key": issue.key}),
    ):
        resp = call(method, path, key, body)
        assert resp.status_code == 403, (path, body)
        assert resp.json()["code"] == "forbidden"
    block.refresh_from_db()
    assert (block.title, block.status) == ("Mine?", "proposed")
    issue.refresh_from_db()
    assert issue.work_block_id is None


def test_it_adds_and_removes_issues(
    call: Callable[..., Any], api_org: Org, board_key: str, django_assert_max_num_queries: Any
) -> None:
    block = _active_block(api_org)
    a, b, c = (make_issue(api_org, title=t) for t in ("A", "B", "C"))
    resp = call("POST", f"work-blocks/{block.pk}/issues", board_key, {"key": a.key.lower()})
    assert resp.status_code == 200, resp.content
    assert [i["key"] for i in resp.json()["issues"]] == [a.key]
    resp = call("POST", f"work-blocks/{block.pk}/issues", board_key, {"keys": [b.key, c.key, a.key]})
    assert {i["key"] for i in resp.json()["issues"]} == {a.key, b.key, c.key}
    assert Event.objects.filter(type="issue_updated", data__key=b.key).exists()
    resp = call("DELETE", f"work-blocks/{block.pk}/issues/{b.key}", board_key)
    assert resp.status_code == 200
    assert {i["key"] for i in resp.json()["issues"]} == {a.key, c.key}
    resp = call("DELETE", f"work-blocks/{block.pk}/issues/{b.key}", board_key)
    assert resp.status_code == 404


def test_it_refuses_bad_issue_lists_all_or_nothing(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    block = _active_block(api_org)
    real = make_issue(api_org)
    resp = call("POST", f"work-blocks/{block.pk}/issues", board_key, {"keys": [real.key, "API-999"]})
    assert resp.status_code == 400
    assert resp.json()["field"] == "keys"
    assert "API-999" in resp.json()["error"]
    real.refresh_from_db()
    assert real.work_block_id is None
    assert call("POST", f"work-blocks/{block.pk}/issues", board_key, {}).json()["field"] == "keys"
    assert call("POST", f"work-blocks/{block.pk}/issues", board_key, {"keys": "x"}).json()["field"] == "keys"
    shipped = make_work_block(api_org)
    WorkBlock.objects.filter(pk=shipped.pk).update(status=WorkBlockStatus.SHIPPED)
    resp = call("POST", f"work-blocks/{shipped.pk}/issues", board_key, {"key": real.key})
    assert resp.status_code == 400
    assert resp.json()["field"] == "work_block"


def test_it_hides_blocks_from_other_orgs(
    call: Callable[..., Any], api_org: Org, outsider: Agent, agent_key: Callable[[Agent], str]
) -> None:
    block = make_work_block(api_org)
    goal = make_apex_block(api_org)
    issue = make_issue(api_org, work_block=block)
    key = agent_key(outsider)  # the CEO of another org
    for method, path, body in (
        ("GET", f"work-blocks/{block.pk}", None),
        ("PATCH", f"work-blocks/{block.pk}", {"title": "x"}),
        ("POST", f"work-blocks/{block.pk}/issues", {"key": issue.key}),
        ("DELETE", f"work-blocks/{block.pk}/issues/{issue.key}", None),
        ("GET", f"apex-blocks/{goal.pk}", None),
        ("PATCH", f"apex-blocks/{goal.pk}", {"title": "x"}),
    ):
        assert call(method, path, key, body).status_code == 404, path
    assert call("GET", "work-blocks", key).json()["results"] == []
    assert call("GET", "apex-blocks", key).json()["results"] == []


# --- apex blocks ----------------------------------------------------------------------------------------------


def test_it_creates_updates_and_reads_apex_blocks(
    call: Callable[..., Any], api_org: Org, ceo: Agent, agent_key: Callable[[Agent], str]
) -> None:
    key = agent_key(ceo)
    resp = call("POST", "apex-blocks", key, {"title": "Win the market", "goal": "Be the best"})
    assert resp.status_code == 201, resp.content
    apex_id = resp.json()["id"]
    assert resp.json()["work_blocks"] == []
    block = make_work_block(api_org, apex_block=ApexBlock.objects.get(pk=apex_id))
    body = call("GET", f"apex-blocks/{apex_id}", key).json()
    assert [b["id"] for b in body["work_blocks"]] == [block.pk]
    body = call("PATCH", f"apex-blocks/{apex_id}", key, {"status": "archived", "goal": "Later"}).json()
    assert (body["status"], body["goal"]) == ("archived", "Later")
    assert [g["id"] for g in call("GET", "apex-blocks?status=archived", key).json()["results"]] == [apex_id]
    assert call("GET", "apex-blocks?status=active", key).json()["results"] == []
    assert call("PATCH", f"apex-blocks/{apex_id}", key, {"status": "gone"}).json()["field"] == "status"
    assert call("POST", "apex-blocks", key, {"goal": "no title"}).json()["field"] == "title"


def test_it_lets_only_the_board_and_the_ceo_change_apex_blocks(
    call: Callable[..., Any], api_org: Org, engineer: Agent, agent_key: Callable[[Agent], str]
) -> None:
    goal = make_apex_block(api_org, title="Keep")
    key = agent_key(engineer)
    assert call("POST", "apex-blocks", key, {"title": "Mine"}).status_code == 403
    assert call("PATCH", f"apex-blocks/{goal.pk}", key, {"title": "Changed"}).status_code == 403
    assert call("GET", f"apex-blocks/{goal.pk}", key).status_code == 200
    goal.refresh_from_db()
    assert goal.title == "Keep"


def test_it_lets_only_the_board_and_the_ceo_take_issues_out(
    call: Callable[..., Any], api_org: Org, engineer: Agent, agent_key: Callable[[Agent], str]
) -> None:
    block = _active_block(api_org)
    issue = make_issue(api_org, work_block=block, assignee=engineer)
    resp = call("DELETE", f"work-blocks/{block.pk}/issues/{issue.key}", agent_key(engineer))
    assert resp.status_code == 403
    issue.refresh_from_db()
    assert issue.work_block_id == block.pk


# --- work blocks as cycles ------------------------------------------------------------------------------------


def test_it_sets_and_clears_cycle_dates(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    resp = call(
        "POST", "work-blocks", board_key, {"title": "Cycle 7", "start_date": "2026-12-01", "end_date": "2026-12-14"}
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["start_date"], body["end_date"]) == ("2026-12-01", "2026-12-14")
    resp = call("PATCH", f"work-blocks/{body['id']}", board_key, {"end_date": "2026-12-21"})
    assert resp.status_code == 200, resp.content
    assert resp.json()["end_date"] == "2026-12-21"
    block = WorkBlock.objects.get(pk=body["id"])
    assert (str(block.start_date), str(block.end_date)) == ("2026-12-01", "2026-12-21")
    listed = call("GET", "work-blocks", board_key).json()["results"]
    assert listed[0]["start_date"] == "2026-12-01"
    resp = call("PATCH", f"work-blocks/{body['id']}", board_key, {"start_date": None, "end_date": None})
    assert (resp.json()["start_date"], resp.json()["end_date"]) == (None, None)


def test_it_refuses_an_end_before_the_start(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    for body, field in (
        ({"title": "x", "start_date": "2026-12-10", "end_date": "2026-12-10"}, "end_date"),
        ({"title": "x", "start_date": "2026-12-10", "end_date": "2026-12-01"}, "end_date"),
        ({"title": "x", "start_date": "10/12/2026"}, "start_date"),
        ({"title": "x", "end_date": 20261201}, "end_date"),
    ):
        resp = call("POST", "work-blocks", board_key, body)
        assert resp.status_code == 400, body
        assert resp.json()["field"] == field, resp.json()
    block = make_work_block(api_org, title="Dated")
    call("PATCH", f"work-blocks/{block.pk}", board_key, {"start_date": "2026-12-01", "end_date": "2026-12-14"})
    resp = call("PATCH", f"work-blocks/{block.pk}", board_key, {"start_date": "2026-12-20"})
    assert resp.status_code == 400
    assert resp.json()["field"] == "end_date"
    block.refresh_from_db()
    assert str(block.start_date) == "2026-12-01"

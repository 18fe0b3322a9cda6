"""Archived issues and labels leave the API's lists and inboxes (issues/archive.py)."""

from __future__ import annotations

from typing import Any

from agents.models import Agent
from issues.archive import issue_archive, issue_restore, label_archive
from issues.models import Comment
from orgs.actors import Actor
from orgs.models import Org
from tests.factories import make_issue, make_label, make_work_block

BOARD = Actor.human(label="board")


def test_it_leaves_archived_issues_out_of_lists_and_inboxes(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any, board_key: str
) -> None:
    kept = make_issue(api_org, title="Kept", assignee=engineer)
    gone = make_issue(api_org, title="Gone", assignee=engineer)
    issue_archive(actor=BOARD, issue=gone)
    assert [i["key"] for i in call("GET", "issues", board_key).json()["results"]] == [kept.key]
    assert [i["key"] for i in call("GET", "inbox", agent_key(engineer)).json()["issues"]] == [kept.key]


def test_it_leaves_archived_labels_out_of_the_label_list(call: Any, api_org: Org, board_key: str) -> None:
    make_label(api_org, name="kept")
    label_archive(actor=BOARD, label=make_label(api_org, name="gone"))
    body = call("GET", "labels", board_key).json()
    assert [row["name"] for row in body["results"]] == ["kept"]


def test_it_says_whether_an_issue_is_archived(call: Any, api_org: Org, board_key: str) -> None:
    issue = make_issue(api_org, title="Shelved soon")
    assert call("GET", f"issues/{issue.key}", board_key).json()["archived_at"] is None
    issue_archive(actor=BOARD, issue=issue)
    body = call("GET", f"issues/{issue.key}", board_key).json()
    assert body["archived_at"] is not None
    assert body["archived_at"].endswith("Z")


def test_it_refuses_writes_to_an_archived_issue(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any, board_key: str
) -> None:
    issue = make_issue(api_org, title="Read only now", assignee=engineer)
    issue_archive(actor=BOARD, issue=issue)
    refusals = [
        call("POST", f"issues/{issue.key}/comments", board_key, {"body": "Still there?"}),
        call("PATCH", f"issues/{issue.key}", board_key, {"status": "cancelled"}),
        call("PATCH", f"issues/{issue.key}", board_key, {"title": "Renamed"}),
        call("POST", f"issues/{issue.key}/comments", agent_key(engineer), {"body": "Mine"}),
        call("POST", f"issues/{issue.key}/checkout", agent_key(engineer)),
    ]
    for r in refusals:
        assert r.status_code == 409, r.content
        body = r.json()
        assert body["code"] == "archived"
        assert issue.key in body["error"]
    issue.refresh_from_db()
    assert (issue.title, issue.status, Comment.objects.filter(issue=issue).count()) == ("Read only now", "todo", 0)


def test_it_accepts_writes_again_once_restored(call: Any, api_org: Org, board_key: str) -> None:
    issue = make_issue(api_org, title="Back from the shelf")
    issue_archive(actor=BOARD, issue=issue)
    issue_restore(actor=BOARD, issue=issue)
    assert call("POST", f"issues/{issue.key}/comments", board_key, {"body": "Welcome back"}).status_code == 201


def test_it_leaves_archived_issues_out_of_work_blocks(call: Any, api_org: Org, board_key: str) -> None:
    block = make_work_block(api_org, title="Cycle with a shelf")
    kept = make_issue(api_org, title="In the cycle", work_block=block)
    issue_archive(actor=BOARD, issue=make_issue(api_org, title="Shelved", work_block=block))
    body = call("GET", f"work-blocks/{block.pk}", board_key).json()
    assert [i["key"] for i in body["issues"]] == [kept.key]
    assert body["stats"]["planned"] == 1
    listed = call("GET", "work-blocks", board_key).json()["results"]
    assert [b["issue_count"] for b in listed if b["id"] == block.pk] == [1]

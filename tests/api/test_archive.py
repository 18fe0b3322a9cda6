"""Archived issues and labels leave the API's lists and inboxes (issues/archive.py)."""

from __future__ import annotations

from typing import Any

from agents.models import Agent
from issues.archive import issue_archive, label_archive
from orgs.actors import Actor
from orgs.models import Org
from tests.factories import make_issue, make_label

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

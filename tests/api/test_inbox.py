from __future__ import annotations

from typing import Any

from agents.models import Agent
from approvals.models import Approval
from issues.models import Issue, Status
from orgs.models import Org
from tests.factories import make_agent, make_issue


def _in_review(org: Org, **kw: Any) -> Issue:
    issue = make_issue(org, **kw)
    Issue.objects.filter(pk=issue.pk).update(status=Status.IN_REVIEW)
    return issue


def _keys(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i["key"], i["reason"]) for i in body["issues"]]


def test_it_lists_assigned_open_issues_by_priority_then_age(
    call: Any, api_org: Org, engineer: Agent, agent_key: Any
) -> None:
    low = make_issue(api_org, title="Low", priority=1, assignee=engineer)
    urgent = make_issue(api_org, title="Urgent", priority=4, assignee=engineer)
    older_low = low
    newer_low = make_issue(api_org, title="Low too", priority=1, assignee=engineer)
    done = make_issue(api_org, title="Done", assignee=engineer)
    Issue.objects.filter(pk=done.pk).update(status=Status.DONE)
    make_issue(api_org, title="Someone else's")
    r = call("GET", "inbox", agent_key(engineer))
    assert r.status_code == 200
    assert _keys(r.json()) == [(urgent.key, "assigned"), (older_low.key, "assigned"), (newer_low.key, "assigned")]
    assert r.json()["approvals"] == []


def test_it_returns_empty_lists(call: Any, api_org: Org, engineer: Agent, agent_key: Any) -> None:
    assert call("GET", "inbox", agent_key(engineer)).json() == {"issues": [], "approvals": []}


def test_it_routes_reviews_to_the_review_agent_then_the_manager_then_the_ceo(
    call: Any, api_org: Org, ceo: Agent, engineer: Agent, qa: Agent, designer: Agent, agent_key: Any
) -> None:
    by_engineer = _in_review(api_org, title="Engineer's", assignee=engineer)  # engineer.review_agent = qa
    by_designer = _in_review(api_org, title="Designer's", assignee=designer)  # no reviewer → manager = ceo
    root = make_agent(api_org, slug="advisor")  # a second root agent: the CEO reviews it
    by_root = _in_review(api_org, title="Advisor's", assignee=root)
    unassigned = _in_review(api_org, title="Nobody's")
    by_ceo = _in_review(api_org, title="CEO's own", assignee=ceo)
    assert _keys(call("GET", "inbox", agent_key(qa)).json()) == [(by_engineer.key, "review")]
    ceo_inbox = _keys(call("GET", "inbox", agent_key(ceo)).json())
    assert sorted(ceo_inbox) == sorted(
        [(by_designer.key, "review"), (by_root.key, "review"), (unassigned.key, "review"), (by_ceo.key, "assigned")]
    )
    # The author is never its own reviewer: its issue in review shows as assigned (waiting), not as a review.
    assert _keys(call("GET", "inbox", agent_key(engineer)).json()) == [(by_engineer.key, "assigned")]


def test_it_sends_the_ceos_own_work_and_board_reviews_to_the_board(
    call: Any, api_org: Org, ceo: Agent, engineer: Agent, board_key: str
) -> None:
    by_ceo = _in_review(api_org, title="CEO's own", assignee=ceo)
    escalated = make_issue(api_org, title="Escalated", assignee=engineer)
    Issue.objects.filter(pk=escalated.pk).update(status=Status.BOARD_REVIEW)
    _in_review(api_org, title="Engineer's", assignee=engineer)
    make_issue(api_org, title="Plain todo")
    body = call("GET", "inbox", board_key).json()
    assert sorted(_keys(body)) == sorted([(by_ceo.key, "board_review"), (escalated.key, "board_review")])


def test_it_lists_pending_approvals_addressed_to_the_caller(
    call: Any, api_org: Org, ceo: Agent, engineer: Agent, qa: Agent, agent_key: Any, board_key: str
) -> None:
    issue = make_issue(api_org)
    to_qa = Approval.objects.create(org=api_org, title="Ship it?", reviewer=qa, issue=issue, requested_by_label="x")
    to_humans = Approval.objects.create(org=api_org, title="Delete prod?")
    Approval.objects.create(org=api_org, title="Old", reviewer=qa, status="approved")
    qa_approvals = call("GET", "inbox", agent_key(qa)).json()["approvals"]
    assert [(a["id"], a["issue"], a["reviewer"]) for a in qa_approvals] == [(to_qa.pk, issue.key, "qa")]
    gate = Approval.objects.create(org=api_org, title="Activate sprint", kind="work_block_activate")
    # The CEO may decide unaddressed agent requests, never a human gate; the board sees both.
    assert [a["id"] for a in call("GET", "inbox", agent_key(ceo)).json()["approvals"]] == [to_humans.pk]
    board = [a["id"] for a in call("GET", "inbox", board_key).json()["approvals"]]
    assert sorted(board) == sorted([to_humans.pk, gate.pk])
    assert call("GET", "inbox", agent_key(engineer)).json()["approvals"] == []


def test_it_answers_in_a_constant_number_of_queries(
    call: Any, api_org: Org, ceo: Agent, designer: Agent, agent_key: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(30):
        make_issue(api_org, title=f"Mine {n}", assignee=ceo)
        _in_review(api_org, title=f"Review {n}", assignee=designer)
        Approval.objects.create(org=api_org, title=f"Approve {n}")
    raw = agent_key(ceo)
    with django_assert_max_num_queries(5):  # auth + touch, issues, labels, approvals
        body = call("GET", "inbox", raw).json()
    assert len(body["issues"]) == 60 and len(body["approvals"]) == 30

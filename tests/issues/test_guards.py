"""The honest review chain: evidence before done, no delegation loops."""

from __future__ import annotations

import pytest

from issues.models import CommentKind, Status
from issues.services import issue_transition, issue_update
from orgs.actors import Actor
from orgs.errors import Conflict
from tests.factories import make_agent, make_ceo, make_comment, make_issue, make_run

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def _in_review(org, assignee):
    issue = make_issue(org, assignee=assignee)
    issue_transition(actor=SYSTEM, issue=issue, to=Status.IN_PROGRESS)
    issue_transition(actor=SYSTEM, issue=issue, to=Status.IN_REVIEW)
    return issue


@pytest.fixture
def team(org):
    ceo = make_ceo(org)
    qa = make_agent(org, slug="qa", archetype="qa", reports_to=ceo)
    eng = make_agent(org, slug="eng", reports_to=ceo, review_agent=qa)
    return ceo, qa, eng


def test_it_refuses_done_by_an_agent_without_evidence(org, team) -> None:
    _, qa, eng = team
    issue = _in_review(org, eng)
    with pytest.raises(Conflict) as exc:
        issue_transition(actor=Actor.for_agent(qa), issue=issue, to=Status.DONE)
    assert exc.value.code == "evidence_required"
    assert "evidence comment" in exc.value.message and issue.key in exc.value.message
    issue.refresh_from_db()
    assert issue.status == Status.IN_REVIEW


@pytest.mark.parametrize("evidence", ["comment", "diff", "pr_in_comment", "pr_in_description"])
def test_it_accepts_done_with_any_kind_of_evidence(org, team, evidence) -> None:
    _, qa, eng = team
    issue = _in_review(org, eng)
    if evidence == "comment":
        make_comment(issue, body="pytest: 42 passed", kind=CommentKind.EVIDENCE)
    elif evidence == "diff":
        make_run(eng, issue=issue, diff="diff --git a/x b/x\n+hello\n")
    elif evidence == "pr_in_comment":
        make_comment(issue, body="Opened https://github.com/acme/app/pull/17 for review")
    else:
        issue_update(actor=SYSTEM, issue=issue, description="See https://gitlab.example/acme/app/-/merge_requests/3")
    issue_transition(actor=Actor.for_agent(qa), issue=issue, to=Status.DONE)
    issue.refresh_from_db()
    assert issue.status == Status.DONE and issue.completed_at is not None


def test_it_does_not_count_a_plain_comment_or_an_empty_diff_as_evidence(org, team) -> None:
    _, qa, eng = team
    issue = _in_review(org, eng)
    make_comment(issue, body="Done! Everything works, trust me. https://example.com/docs")
    make_run(eng, issue=issue, diff="")
    with pytest.raises(Conflict):
        issue_transition(actor=Actor.for_agent(qa), issue=issue, to=Status.DONE)


def test_it_lets_a_human_decide_done_without_evidence(org, team) -> None:
    _, _, eng = team
    issue = _in_review(org, eng)
    issue_transition(actor=Actor.human(label="alice"), issue=issue, to=Status.DONE)
    issue.refresh_from_db()
    assert issue.status == Status.DONE


def test_it_refuses_delegating_a_sub_issue_back_to_the_holder_of_an_ancestor(org, team) -> None:
    ceo, _, eng = team
    root = make_issue(org, title="Root goal", assignee=ceo)
    child = make_issue(org, title="Child task", parent=root, assignee=eng)
    grandchild = make_issue(org, title="Grandchild task", parent=child, assignee=eng)
    with pytest.raises(Conflict) as exc:
        issue_update(actor=Actor.for_agent(eng), issue=grandchild, assignee=ceo)
    assert exc.value.code == "delegation_cycle"
    assert "ceo" in exc.value.message and root.key in exc.value.message
    grandchild.refresh_from_db()
    assert grandchild.assignee_id == eng.pk


def test_it_refuses_creating_a_sub_issue_for_the_holder_of_its_parent(org, team) -> None:
    ceo, _, eng = team
    root = make_issue(org, title="Root goal", assignee=ceo)
    child = make_issue(org, title="Child task", parent=root, assignee=eng)
    with pytest.raises(Conflict) as exc:
        make_issue(org, actor=Actor.for_agent(eng), title="Bounce it", parent=child, assignee=ceo)
    assert exc.value.code == "delegation_cycle"


def test_it_allows_delegating_down_and_taking_work_oneself(org, team) -> None:
    ceo, qa, eng = team
    root = make_issue(org, title="Root goal", assignee=ceo)
    child = make_issue(org, actor=Actor.for_agent(ceo), title="Child task", parent=root, assignee=eng)
    mine = make_issue(org, actor=Actor.for_agent(eng), title="My own step", parent=child, assignee=eng)
    issue_update(actor=Actor.for_agent(eng), issue=mine, assignee=qa)
    mine.refresh_from_db()
    assert child.assignee_id == eng.pk and mine.assignee_id == qa.pk


def test_it_lets_humans_reassign_freely(org, team) -> None:
    ceo, _, eng = team
    root = make_issue(org, title="Root goal", assignee=ceo)
    child = make_issue(org, title="Child task", parent=root, assignee=eng)
    issue_update(actor=Actor.human(label="alice"), issue=child, assignee=ceo)
    child.refresh_from_db()
    assert child.assignee_id == ceo.pk

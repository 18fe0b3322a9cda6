from __future__ import annotations

from typing import Any

import pytest

from issues.guards import completion_comment
from issues.models import Issue, Status
from issues.services import issue_transition
from orgs.actors import Actor
from orgs.errors import Conflict
from orgs.models import Activity
from tests.factories import SYSTEM, make_agent, make_comment, make_issue, make_org


def _started(**kw: Any) -> tuple[Issue, Actor]:
    org = kw.pop("org", None) or make_org()
    dev = make_agent(org, slug="dev")
    issue = make_issue(org, assignee=dev, **kw)
    issue = issue_transition(actor=SYSTEM, issue=issue, to=Status.IN_PROGRESS)
    return issue, Actor.for_agent(dev)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "kind", "counts"),
    [
        ("Tests pass: 12 ok.", "evidence", True),
        ("Work completed, see the branch.", "comment", True),
        ("## Summary\nChanged the parser.", "comment", True),
        ("Not done yet, still looking.", "comment", False),
        ("I will write a summary later.", "comment", False),
    ],
)
def test_it_knows_a_completion_comment(body: str, kind: str, counts: bool) -> None:
    issue, dev = _started()
    make_comment(issue, actor=dev, body=body, kind=kind)
    assert (completion_comment(issue) is not None) is counts


@pytest.mark.django_db
def test_it_ignores_completion_words_from_others() -> None:
    issue, _dev = _started()
    make_comment(issue, body="Work completed?")  # the system, not the assignee
    assert completion_comment(issue) is None
    issue_transition(actor=SYSTEM, issue=issue, to=Status.CANCELLED)
    assert Issue.objects.get(pk=issue.pk).status == Status.CANCELLED


@pytest.mark.django_db
def test_it_needs_a_reason_to_cancel_finished_work() -> None:
    issue, dev = _started()
    make_comment(issue, actor=dev, body="Fix applied and tested.")
    with pytest.raises(Conflict) as refused:
        issue_transition(actor=SYSTEM, issue=issue, to=Status.CANCELLED)
    assert refused.value.code == "cancellation_reason_required"
    assert refused.value.extra["completion_comment_excerpt"] == "Fix applied and tested."
    assert Issue.objects.get(pk=issue.pk).status == Status.IN_PROGRESS

    issue_transition(actor=SYSTEM, issue=issue, to=Status.CANCELLED, comment="Customer dropped the feature.")
    assert Issue.objects.get(pk=issue.pk).status == Status.CANCELLED
    assert issue.comments.last().body == "Cancellation reason: Customer dropped the feature."  # type: ignore[union-attr]
    moved = Activity.objects.filter(verb="moved", object_id=issue.key).first()
    assert moved is not None and moved.details["reason"] == "Customer dropped the feature."


def test_it_answers_409_through_the_api_and_asks_inline_on_the_page(client: Any, org: Any) -> None:
    issue, dev = _started(org=org)
    make_comment(issue, actor=dev, body="Tests: 3 passed", kind="evidence")
    page = client.post(
        f"/issues/{issue.key}/edit", {"status": "cancelled"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="issue-props"
    )
    body = page.content.decode()
    assert page.status_code == 409 and 'id="cancel-reason"' in body and "Tests: 3 passed" in body
    done = client.post(
        f"/issues/{issue.key}/edit",
        {"status": "cancelled", "comment": "Duplicate work."},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="issue-props",
    )
    assert done.status_code == 200 and Issue.objects.get(pk=issue.pk).status == Status.CANCELLED

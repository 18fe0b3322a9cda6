"""Approvals: created, decided exactly once, by someone allowed to decide."""

from __future__ import annotations

from typing import Any

import pytest

from approvals.models import Approval, ApprovalKind, ApprovalStatus
from approvals.registry import APPLIERS
from approvals.services import approval_create, approval_resolve
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from orgs.models import Activity, Event
from tests.factories import make_agent, make_ceo, make_issue, make_org, make_user, make_work_block

BOARD = Actor.human(label="alice")


def _ask(org: Any, actor: Actor, **kw: Any) -> Approval:
    kw.setdefault("title", "May I deploy?")
    return approval_create(actor=actor, org=org, **kw)


def test_it_creates_a_pending_approval_with_its_event(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    issue = make_issue(org)
    approval = _ask(org, Actor.for_agent(dev), title="  May   I deploy? ", reason=" prod ", issue=issue)
    assert (approval.status, approval.kind, approval.title, approval.reason) == (
        "pending",
        "action",
        "May I deploy?",
        "prod",
    )
    assert approval.requested_by_agent == dev and approval.requested_by_label == "dev"
    event = Event.objects.filter(type="approval_created").get()
    assert event.data["id"] == approval.pk and event.data["issue_key"] == issue.key
    assert event.data["requested_by_agent_id"] == dev.pk and event.data["status"] == "pending"
    assert Activity.objects.filter(verb="requested approval", object_id=str(approval.pk)).exists()


def test_it_validates_a_request(org: Any) -> None:
    with pytest.raises(InvalidInput):
        _ask(org, BOARD, title="  ")
    with pytest.raises(InvalidInput):
        _ask(org, BOARD, kind="bribe")
    foreign_issue = make_issue(make_org(slug="other"))
    with pytest.raises(InvalidInput) as exc:
        _ask(org, BOARD, issue=foreign_issue)
    assert exc.value.extra["field"] == "issue"
    assert not Approval.objects.filter(org=org).exists()


def test_it_resolves_once_and_refuses_a_second_decision(org: Any) -> None:
    user = make_user(username="alice")
    approval = _ask(org, Actor.for_agent(make_agent(org, slug="dev")))
    decided = approval_resolve(actor=Actor.human(user), approval=approval, decision="approved", comment=" go ")
    assert decided.status == ApprovalStatus.APPROVED
    row = Approval.objects.get(pk=approval.pk)
    assert (row.status, row.decided_by_user, row.decided_by_label, row.decision_comment) == (
        "approved",
        user,
        "alice",
        "go",
    )
    assert row.decided_at is not None
    event = Event.objects.filter(type="approval_resolved").get()
    assert event.data["status"] == "approved"
    stale = Approval.objects.get(pk=approval.pk)
    with pytest.raises(Conflict) as exc:
        approval_resolve(actor=BOARD, approval=stale, decision="rejected")
    assert exc.value.code == "already_decided" and exc.value.extra["status"] == "approved"
    assert Approval.objects.get(pk=approval.pk).status == "approved"
    assert Event.objects.filter(type="approval_resolved").count() == 1


def test_it_refuses_a_decision_other_than_approve_or_reject(org: Any) -> None:
    approval = _ask(org, BOARD)
    with pytest.raises(InvalidInput):
        approval_resolve(actor=BOARD, approval=approval, decision="maybe")
    assert Approval.objects.get(pk=approval.pk).status == "pending"


def test_it_refuses_an_agent_of_another_org(org: Any) -> None:
    approval = _ask(org, BOARD)
    outsider = make_ceo(make_org(slug="other"))
    with pytest.raises(Forbidden):
        approval_resolve(actor=Actor.for_agent(outsider), approval=approval, decision="approved")
    assert Approval.objects.get(pk=approval.pk).status == "pending"


def test_it_lets_only_the_addressed_reviewer_the_ceo_or_the_board_decide(org: Any) -> None:
    ceo = make_ceo(org)
    reviewer = make_agent(org, slug="qa", archetype="qa", reports_to=ceo)
    dev = make_agent(org, slug="dev", reports_to=ceo)
    bystander = make_agent(org, slug="bystander", reports_to=ceo)

    addressed = _ask(org, Actor.for_agent(dev), reviewer=reviewer)
    with pytest.raises(Forbidden):
        approval_resolve(actor=Actor.for_agent(bystander), approval=addressed, decision="approved")
    with pytest.raises(Forbidden):
        approval_resolve(actor=Actor.for_agent(dev), approval=addressed, decision="approved")
    assert (
        approval_resolve(actor=Actor.for_agent(reviewer), approval=addressed, decision="rejected").status == "rejected"
    )
    assert Approval.objects.get(pk=addressed.pk).decided_by_agent == reviewer

    to_ceo = _ask(org, Actor.for_agent(dev))
    with pytest.raises(Forbidden):
        approval_resolve(actor=Actor.for_agent(reviewer), approval=to_ceo, decision="approved")
    assert approval_resolve(actor=Actor.for_agent(ceo), approval=to_ceo, decision="approved").status == "approved"

    overruled = _ask(org, Actor.for_agent(dev), reviewer=reviewer)
    assert approval_resolve(actor=Actor.for_agent(ceo), approval=overruled, decision="approved").status == "approved"

    own = _ask(org, Actor.for_agent(ceo))
    with pytest.raises(Forbidden):
        approval_resolve(actor=Actor.for_agent(ceo), approval=own, decision="approved")
    assert approval_resolve(actor=BOARD, approval=own, decision="approved").status == "approved"

    own_addressed = _ask(org, Actor.for_agent(ceo), reviewer=reviewer)
    with pytest.raises(Forbidden):
        approval_resolve(actor=Actor.for_agent(ceo), approval=own_addressed, decision="approved")
    assert approval_resolve(actor=Actor.for_agent(reviewer), approval=own_addressed, decision="approved").status == (
        "approved"
    )


def test_it_refuses_a_non_board_human_or_system_label(org: Any) -> None:
    approval = _ask(org, BOARD)
    with pytest.raises(Forbidden):
        approval_resolve(actor=Actor(kind="human", label="guest"), approval=approval, decision="approved")
    assert approval_resolve(actor=Actor.system("telegram"), approval=approval, decision="approved").status == "approved"


def test_it_applies_the_decision_through_the_registry(org: Any, monkeypatch: Any) -> None:
    seen: list[tuple[str, str]] = []
    monkeypatch.setitem(APPLIERS, ApprovalKind.BUDGET_RAISE, lambda a, actor: seen.append((a.status, str(actor))))
    approval = _ask(org, BOARD, kind=ApprovalKind.BUDGET_RAISE, payload={"usd": 5})
    approval_resolve(actor=BOARD, approval=approval, decision="approved")
    assert seen == [("approved", "alice")]


def test_it_rolls_back_the_decision_when_applying_it_fails(org: Any, monkeypatch: Any) -> None:
    def fail(approval: Approval, actor: Actor) -> None:
        raise InvalidInput("cannot apply")

    monkeypatch.setitem(APPLIERS, ApprovalKind.AGENT_ADD, fail)
    approval = _ask(org, BOARD, kind=ApprovalKind.AGENT_ADD)
    with pytest.raises(InvalidInput):
        approval_resolve(actor=BOARD, approval=approval, decision="approved")
    assert Approval.objects.get(pk=approval.pk).status == "pending"


def test_it_refuses_a_request_from_an_agent_of_another_org(org: Any) -> None:
    outsider = make_agent(make_org(slug="other"), slug="spy")
    with pytest.raises(Forbidden):
        _ask(org, Actor.for_agent(outsider))
    assert not Approval.objects.filter(org=org).exists()


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_concurrent_deciders_win() -> None:
    from tests.orgs.threads import run_concurrently

    org = make_org()
    approval = _ask(org, BOARD)
    results, errors = run_concurrently(
        lambda n: (
            approval_resolve(
                actor=Actor.human(label=f"human{n}"),
                approval=Approval.objects.get(pk=approval.pk),
                decision="approved" if n % 2 else "rejected",
            ).decided_by_label
        ),
        threads=6,
    )
    assert len(results) == 1 and len(errors) == 5
    assert all(isinstance(e, Conflict) and e.code == "already_decided" for e in errors)
    row = Approval.objects.get(pk=approval.pk)
    assert row.decided_by_label == results[0]
    assert Event.objects.filter(type="approval_resolved").count() == 1


def test_it_refuses_subjects_and_reviewers_from_another_org(org: Any) -> None:
    other = make_org(slug="other")
    foreign_agent = make_agent(other, slug="stranger")
    for field in ("reviewer", "subject_agent"):
        with pytest.raises(InvalidInput) as exc:
            _ask(org, BOARD, **{field: foreign_agent})
        assert exc.value.extra["field"] == field
    with pytest.raises(InvalidInput):
        _ask(org, BOARD, work_block=make_work_block(other))
    assert not Approval.objects.filter(org=org).exists()

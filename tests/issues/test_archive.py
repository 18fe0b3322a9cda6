"""Archiving and restoring issues, and managing labels (issues/archive.py)."""

from __future__ import annotations

from typing import Any

import pytest

from blocks.models import WorkBlock
from blocks.services import work_block_transition
from issues.archive import issue_archive, issue_restore, label_archive, label_restore, label_update
from issues.board import filtered_issues
from issues.checkout import issue_checkout
from issues.models import Issue, Label
from issues.selectors import issue_get_for, issue_similar, issues_archived, label_get
from issues.services import issue_transition
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, NotFound
from orgs.models import Activity, Event
from runners.dispatch import agent_has_work, dispatch_events, pending_wakes
from tests.factories import make_agent, make_ceo, make_issue, make_label, make_org, make_work_block

BOARD = Actor.human(label="board")


def test_it_archives_an_issue_off_the_board_and_restores_it_as_it_was(org: Any) -> None:
    worker = make_agent(org, slug="worker")
    label = make_label(org, name="bug")
    issue = make_issue(org, title="Flaky login", assignee=worker, labels=[label.name])
    kept = make_issue(org, title="Flaky logout")
    issue_archive(actor=BOARD, issue=issue)
    assert list(filtered_issues(org, {})) == [kept]
    assert list(filtered_issues(org, {"q": ["Flaky"]})) == [kept]
    assert issues_archived(org=org) == [issue]
    assert Activity.objects.filter(org=org, verb="archived", object_id=issue.key).exists()
    assert Event.objects.filter(org=org, type="issue_deleted", data__key=issue.key).exists()
    # The page still answers (with a Restore button); the selector returns archived issues.
    assert issue_get_for(actor=BOARD, org=org, key=issue.key).archived_at is not None

    issue_restore(actor=BOARD, issue=issue)
    restored = Issue.objects.get(pk=issue.pk)
    assert restored.archived_at is None and restored.assignee == worker
    assert [lab.name for lab in restored.labels.all()] == ["bug"]
    assert set(filtered_issues(org, {})) == {issue, kept}
    assert Activity.objects.filter(org=org, verb="restored", object_id=issue.key).exists()


def test_it_refuses_to_archive_twice_or_restore_a_live_issue(org: Any) -> None:
    issue = make_issue(org)
    with pytest.raises(Conflict):
        issue_restore(actor=BOARD, issue=issue)
    issue_archive(actor=BOARD, issue=issue)
    with pytest.raises(Conflict):
        issue_archive(actor=BOARD, issue=issue)


def test_it_lets_only_the_board_and_the_ceo_archive(org: Any) -> None:
    worker = make_agent(org, slug="worker")
    ceo = make_ceo(org)
    issue = make_issue(org, assignee=worker)
    with pytest.raises(Forbidden):
        issue_archive(actor=Actor.for_agent(worker), issue=issue)
    outsider = make_ceo(make_org(slug="other", issue_prefix="OTH"), slug="boss")
    with pytest.raises(Forbidden):
        issue_archive(actor=Actor.for_agent(outsider), issue=issue)
    assert Issue.objects.get(pk=issue.pk).archived_at is None
    issue_archive(actor=Actor.for_agent(ceo), issue=issue)
    assert Issue.objects.get(pk=issue.pk).archived_at is not None


def test_it_never_dispatches_or_checks_out_an_archived_issue(org: Any) -> None:
    worker = make_agent(org, slug="worker")
    issue = make_issue(org, assignee=worker)
    assert agent_has_work(worker)
    assert [w.issue_id for w in pending_wakes(org_id=org.pk)] == [issue.pk]
    issue_archive(actor=BOARD, issue=issue)
    assert not agent_has_work(worker)
    assert pending_wakes(org_id=org.pk) == []
    with pytest.raises(Conflict) as refused:
        issue_checkout(actor=Actor.for_agent(worker), issue=issue)
    assert refused.value.code == "archived"
    # A stale copy (archived after it was read) loses the conditional claim too.
    stale = Issue.objects.get(pk=issue.pk)
    stale.archived_at = None
    with pytest.raises(Conflict):
        issue_checkout(actor=Actor.for_agent(worker), issue=stale)
    assert Issue.objects.get(pk=issue.pk).status == "todo"


def test_it_leaves_archived_issues_out_of_duplicate_checks(org: Any) -> None:
    issue = make_issue(org, title="Add a dark mode toggle")
    assert issue_similar(org=org, title="Add dark mode toggle")
    issue_archive(actor=BOARD, issue=issue)
    assert issue_similar(org=org, title="Add dark mode toggle") == []


def test_it_renames_recolours_archives_and_restores_a_label(org: Any) -> None:
    label = make_label(org, name="bug", color="#e5484d")
    label_update(actor=BOARD, label=label, name="defect", color="#00aa00")
    assert Label.objects.filter(pk=label.pk).values_list("name", "color").get() == ("defect", "#00aa00")
    row = Activity.objects.filter(org=org, verb="updated", object_type="label").get()
    assert row.details["changes"] == {"name": ["bug", "defect"], "color": ["#e5484d", "#00aa00"]}
    make_label(org, name="ops")
    with pytest.raises(Conflict):
        label_update(actor=BOARD, label=label, name="OPS")
    label_archive(actor=BOARD, label=label)
    assert Label.objects.get(pk=label.pk).archived_at is not None
    with pytest.raises(Conflict):
        label_archive(actor=BOARD, label=label)
    label_restore(actor=BOARD, label=label)
    assert Label.objects.get(pk=label.pk).archived_at is None
    assert Activity.objects.filter(org=org, object_type="label", verb__in=["archived", "restored"]).count() == 2


def test_it_hides_another_orgs_label_and_refuses_its_agents(org: Any) -> None:
    other = make_org(slug="other", issue_prefix="OTH")
    theirs = make_label(other, name="theirs")
    with pytest.raises(NotFound):
        label_get(org=org, label_id=theirs.pk)
    with pytest.raises(NotFound):
        label_get(org=org, label_id="nope")
    mine = make_label(org, name="mine")
    outsider = make_agent(other, slug="spy")
    with pytest.raises(Forbidden):
        label_archive(actor=Actor.for_agent(outsider), label=mine)
    with pytest.raises(Forbidden):
        label_update(actor=Actor.for_agent(outsider), label=mine, name="pwned")
    assert Label.objects.get(pk=mine.pk).name == "mine"


def test_it_does_not_let_an_archived_issue_hold_its_work_block_open(org: Any) -> None:
    block = make_work_block(org, title="Sprint 1")
    work_block_transition(actor=BOARD, block=block, to="active")
    last = make_issue(org, title="Last", work_block=block)
    issue_archive(actor=BOARD, issue=make_issue(org, title="Parked", work_block=block))
    issue_transition(actor=BOARD, issue=last, to="cancelled")
    dispatch_events(0)
    assert WorkBlock.objects.get(pk=block.pk).status == "ready"

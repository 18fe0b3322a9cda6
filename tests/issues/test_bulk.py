"""Bulk actions (issues.bulk and POST /issues/bulk): each issue through the single-issue service."""

from __future__ import annotations

from typing import Any

import pytest

from issues.bulk import (
    MAX_BULK,
    issues_bulk_assign,
    issues_bulk_label,
    issues_bulk_set_priority,
    issues_bulk_set_work_block,
    issues_bulk_transition,
)
from issues.models import Issue, Status
from orgs.actors import Actor
from orgs.errors import Forbidden, InvalidInput
from orgs.models import Event
from orgs.services import membership_set
from tests.factories import make_agent, make_issue, make_label, make_org, make_user, make_work_block

HUMAN = Actor.human(label="local", operator=True)
HTMX = {"HTTP_HX_REQUEST": "true"}


def updates(keys: list[str]) -> int:
    return Event.objects.filter(type="issue_updated", data__key__in=keys).count()


def test_it_moves_the_legal_ones_and_reports_each_refusal(org: Any) -> None:
    agent = make_agent(org, slug="builder")
    ready = make_issue(org, title="Ready", assignee=agent)
    unassigned = make_issue(org, title="Nobody holds it")
    finished = make_issue(org, title="Finished")
    Issue.objects.filter(pk=finished.pk).update(status=Status.DONE)
    result = issues_bulk_transition(
        actor=HUMAN, org=org, keys=[ready.key, unassigned.key, finished.key, "ACME-999"], to="in_progress"
    )
    assert result.done == [ready.key]
    refused = dict(result.refused)
    assert "has no assignee" in refused[unassigned.key]
    assert "cannot move from done" in refused[finished.key]
    assert "There is no issue ACME-999" in refused["ACME-999"]
    statuses = dict(Issue.objects.filter(org=org).values_list("key", "status"))
    assert statuses == {ready.key: "in_progress", unassigned.key: "todo", finished.key: "done"}
    # One live event per changed issue, as for a single change; none for the refused.
    assert updates([ready.key]) == 1 and updates([unassigned.key, finished.key]) == 0
    assert "Refused:" in result.summary("Status") and "1 issue updated" in result.summary("Status")


def test_it_assigns_prioritises_and_blocks_each_issue(org: Any) -> None:
    agent = make_agent(org, slug="builder")
    block = make_work_block(org, title="Sprint")
    keys = [make_issue(org, title=f"Issue {n}").key for n in range(3)]
    assert issues_bulk_assign(actor=HUMAN, org=org, keys=keys, assignee=agent).done == keys
    assert issues_bulk_set_priority(actor=HUMAN, org=org, keys=keys, priority=3).done == keys
    assert issues_bulk_set_work_block(actor=HUMAN, org=org, keys=keys, work_block=block).done == keys
    rows = set(Issue.objects.filter(key__in=keys).values_list("assignee_id", "priority", "work_block_id"))
    assert rows == {(agent.pk, 3, block.pk)}
    assert updates(keys) == 9
    bad = issues_bulk_set_priority(actor=HUMAN, org=org, keys=keys[:1], priority=9)
    assert bad.done == [] and "priority" in bad.refused[0][1].lower()


def test_it_refuses_to_unassign_started_work_but_unassigns_the_rest(org: Any) -> None:
    agent = make_agent(org, slug="builder")
    started = make_issue(org, title="Started", assignee=agent)
    waiting = make_issue(org, title="Waiting", assignee=agent)
    Issue.objects.filter(pk=started.pk).update(status=Status.IN_PROGRESS)
    result = issues_bulk_assign(actor=HUMAN, org=org, keys=[started.key, waiting.key], assignee=None)
    assert result.done == [waiting.key] and result.refused[0][0] == started.key
    assert Issue.objects.get(pk=started.pk).assignee_id == agent.pk


def test_it_adds_and_removes_one_label_keeping_the_others(org: Any) -> None:
    make_label(org, name="ui")
    make_label(org, name="api")
    one = make_issue(org, title="One", labels=["api"])
    two = make_issue(org, title="Two")
    keys = [one.key, two.key]
    issues_bulk_label(actor=HUMAN, org=org, keys=keys, label="ui", add=True)
    assert sorted(one.labels.values_list("name", flat=True)) == ["api", "ui"]
    assert list(two.labels.values_list("name", flat=True)) == ["ui"]
    issues_bulk_label(actor=HUMAN, org=org, keys=keys, label="ui", add=False)
    assert list(one.labels.values_list("name", flat=True)) == ["api"]
    assert not two.labels.exists()
    unknown = issues_bulk_label(actor=HUMAN, org=org, keys=keys, label="nope", add=True)
    assert unknown.done == [] and "Unknown label" in unknown.refused[0][1]


def test_it_refuses_an_empty_or_oversized_selection(org: Any) -> None:
    with pytest.raises(InvalidInput):
        issues_bulk_set_priority(actor=HUMAN, org=org, keys=[], priority=1)
    with pytest.raises(InvalidInput):
        issues_bulk_set_priority(actor=HUMAN, org=org, keys=[f"ACME-{n}" for n in range(MAX_BULK + 1)], priority=1)


def test_it_never_touches_another_orgs_issues(org: Any) -> None:
    other = make_org(name="Other", slug="other", issue_prefix="OTH")
    theirs = make_issue(other, title="Theirs")
    outsider = Actor.for_agent(make_agent(other, slug="spy"))
    with pytest.raises(Forbidden):
        issues_bulk_set_priority(actor=outsider, org=org, keys=["ACME-1"], priority=4)
    # Their key asked of our org is simply not there.
    result = issues_bulk_set_priority(actor=HUMAN, org=org, keys=[theirs.key], priority=4)
    assert result.done == [] and Issue.objects.get(pk=theirs.pk).priority == 0


def test_it_answers_the_bulk_bar_with_the_columns_and_a_toast(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="builder")
    ready = make_issue(org, title="Ready", assignee=agent)
    idle = make_issue(org, title="Idle")
    response = client.post(
        "/issues/bulk?view=list&status=todo&status=in_progress",
        {"action": "status", "value": "in_progress", "keys": f"{ready.key},{idle.key}"},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<div id="board-columns"')
    assert 'hx-swap-oob="beforeend"' in body and "Status: 1 issue updated." in body and f"{idle.key}: " in body
    assert "toast-warning" in body
    assert Issue.objects.get(pk=ready.pk).status == "in_progress"
    response = client.post("/issues/bulk", {"action": "priority", "value": "2", "keys": idle.key})
    assert response.status_code == 302 and Issue.objects.get(pk=idle.pk).priority == 2
    refused = client.post("/issues/bulk", {"action": "explode", "value": "", "keys": idle.key}, **HTMX)
    assert refused.status_code == 400 and "Unknown bulk action" in refused.content.decode()


def test_it_refuses_bulk_changes_from_a_viewer(client: Any, org: Any, settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = False
    issue = make_issue(org, title="Look only")
    viewer = make_user(username="vera")
    membership_set(actor=Actor.system(), org=org, user=viewer, role="viewer")
    client.force_login(viewer)
    response = client.post("/issues/bulk", {"action": "priority", "value": "4", "keys": issue.key})
    assert response.status_code == 403 and Issue.objects.get(pk=issue.pk).priority == 0

"""Issue writes: duplicates, labels, sub-issues, field-level updates, comments, the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from issues.comments import comment_create, system_comment
from issues.labels import label_create
from issues.models import Comment, Issue, IssueRelation, Status
from issues.relations import relation_add, relation_remove
from issues.services import issue_create, issue_delete, issue_transition, issue_update
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from orgs.models import Activity, Event
from tests.factories import make_agent, make_ceo, make_issue, make_label, make_org, make_work_block

BOARD = Actor.human(label="alice")


# --- duplicates -------------------------------------------------------------------------------------------


def test_it_refuses_a_duplicate_open_title_naming_the_existing_key(org: Any) -> None:
    first = make_issue(org, title="Fix the login page")
    for title in ("fix the LOGIN page", "  Fix   the login\tpage  "):
        with pytest.raises(Conflict) as exc:
            make_issue(org, title=title)
        assert exc.value.code == "duplicate"
        assert exc.value.extra["existing_key"] == first.key
        assert first.key in exc.value.message
    assert Issue.objects.filter(org=org).count() == 1


def test_it_allows_a_title_again_once_the_old_issue_is_closed(org: Any) -> None:
    first = make_issue(org, title="Fix the login page")
    issue_transition(actor=BOARD, issue=first, to=Status.CANCELLED)
    again = make_issue(org, title="fix the login page")
    assert again.key == "ACME-2"
    assert make_issue(org, title="Fix the login page, part two").key == "ACME-3"


# --- labels -----------------------------------------------------------------------------------------------


def test_it_requires_labels_to_exist_and_lists_the_known_ones(org: Any) -> None:
    make_label(org, name="bug")
    make_label(org, name="ui")
    with pytest.raises(InvalidInput) as exc:
        make_issue(org, labels=["bug", "urgent-ish"])
    assert exc.value.extra["field"] == "labels"
    assert "urgent-ish" in exc.value.message and "Known labels: bug, ui" in exc.value.message
    assert not Issue.objects.exists()
    issue = make_issue(org, labels=["BUG", " ui "])
    assert sorted(issue.labels.values_list("name", flat=True)) == ["bug", "ui"]


def test_it_says_when_no_labels_exist_yet(org: Any) -> None:
    with pytest.raises(InvalidInput) as exc:
        make_issue(org, labels=["bug"])
    assert "none yet" in exc.value.message


def test_it_refuses_duplicate_and_malformed_labels(org: Any) -> None:
    make_label(org, name="bug")
    with pytest.raises(Conflict):
        label_create(actor=BOARD, org=org, name="BUG")
    with pytest.raises(InvalidInput):
        label_create(actor=BOARD, org=org, name="red", color="red")
    assert make_label(make_org(slug="other"), name="bug").name == "bug"


# --- sub-issues -------------------------------------------------------------------------------------------


def test_it_limits_the_depth_of_sub_issues(org: Any, settings: Any) -> None:
    settings.MESA_MAX_ISSUE_DEPTH = 2
    top = make_issue(org, title="top")
    child = make_issue(org, title="child", parent=top)
    grandchild = make_issue(org, title="grandchild", parent=child)
    with pytest.raises(InvalidInput) as exc:
        make_issue(org, title="too deep", parent=grandchild)
    assert exc.value.code == "too_deep" and exc.value.extra["field"] == "parent"
    assert "2 levels" in exc.value.message
    assert not Issue.objects.filter(title="too deep").exists()


def test_it_limits_depth_when_moving_a_subtree_under_another_issue(org: Any, settings: Any) -> None:
    settings.MESA_MAX_ISSUE_DEPTH = 2
    top = make_issue(org, title="top")
    other = make_issue(org, title="other top")
    child = make_issue(org, title="child", parent=other)
    make_issue(org, title="grandchild", parent=child)
    # Putting "other" (which has two levels below it) under "top" would make three levels.
    with pytest.raises(InvalidInput) as exc:
        issue_update(actor=BOARD, issue=other, parent=top)
    assert exc.value.code == "too_deep"
    assert Issue.objects.get(pk=other.pk).parent_id is None
    # A leaf can still move there.
    leaf = make_issue(org, title="leaf")
    issue_update(actor=BOARD, issue=leaf, parent=child)
    assert Issue.objects.get(pk=leaf.pk).parent_id == child.pk


def test_it_refuses_a_parent_loop(org: Any) -> None:
    a = make_issue(org, title="a")
    b = make_issue(org, title="b", parent=a)
    c = make_issue(org, title="c", parent=b)
    with pytest.raises(InvalidInput) as exc:
        issue_update(actor=BOARD, issue=a, parent=c)
    assert "loop" in exc.value.message
    with pytest.raises(InvalidInput):
        issue_update(actor=BOARD, issue=a, parent=a)
    assert Issue.objects.get(pk=a.pk).parent_id is None


def test_it_refuses_a_parent_assignee_or_block_from_another_org(org: Any) -> None:
    other = make_org(slug="other")
    with pytest.raises(InvalidInput) as exc:
        make_issue(org, parent=make_issue(other))
    assert exc.value.extra["field"] == "parent"
    with pytest.raises(InvalidInput):
        make_issue(org, assignee=make_agent(other))
    with pytest.raises(InvalidInput):
        make_issue(org, work_block=make_work_block(other))
    assert not Issue.objects.filter(org=org).exists()


# --- field-level updates ----------------------------------------------------------------------------------


def test_it_keeps_a_concurrent_change_of_another_field(org: Any) -> None:
    issue = make_issue(org, title="Original", priority=1)
    mine = Issue.objects.get(pk=issue.pk)
    theirs = Issue.objects.get(pk=issue.pk)
    issue_update(actor=BOARD, issue=mine, title="Renamed")
    issue_update(actor=BOARD, issue=theirs, priority=4, description="More detail")
    issue_transition(actor=BOARD, issue=Issue.objects.get(pk=issue.pk), to=Status.CANCELLED)
    issue_update(actor=BOARD, issue=mine, acceptance_criteria="It works")  # stale copy, other field
    row = Issue.objects.get(pk=issue.pk)
    assert (row.title, row.priority, row.description, row.acceptance_criteria, row.status) == (
        "Renamed",
        4,
        "More detail",
        "It works",
        Status.CANCELLED,
    )


def test_it_records_exactly_the_changed_fields(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    make_label(org, name="bug")
    issue = make_issue(org, title="Thing", priority=2)
    issue_update(actor=BOARD, issue=issue, title="Thing", priority=3, assignee=dev, labels=["bug"])
    activity = Activity.objects.filter(verb="updated", object_id=issue.key).get()
    assert activity.details["changes"] == {"priority": [2, 3], "assignee": [None, "dev"], "labels": [[], ["bug"]]}
    event = Event.objects.filter(type="issue_updated").last()
    assert event is not None
    assert event.data["changes"] == ["assignee", "labels", "priority"]
    assert (event.data["assignee"], event.data["assignee_id"], event.data["key"]) == ("dev", dev.pk, issue.key)
    count = Event.objects.count()
    issue_update(actor=BOARD, issue=issue, priority=3, labels=["BUG"])  # nothing changes
    assert Event.objects.count() == count


def test_it_validates_updated_values(org: Any) -> None:
    issue = make_issue(org)
    for bad in ({"title": "  "}, {"priority": 9}, {"type": "saga"}, {"labels": ["ghost"]}):
        with pytest.raises(InvalidInput):
            issue_update(actor=BOARD, issue=issue, **bad)
    cancelled = make_work_block(org)
    from blocks.services import work_block_transition

    work_block_transition(actor=BOARD, block=cancelled, to="cancelled")
    with pytest.raises(InvalidInput):
        issue_update(actor=BOARD, issue=issue, work_block=cancelled)


# --- comments ---------------------------------------------------------------------------------------------


def test_it_accepts_comment_and_evidence_but_system_only_from_the_system(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    issue = make_issue(org, assignee=dev)
    me = Actor.for_agent(dev)
    assert comment_create(actor=me, issue=issue, body="Working on it").kind == "comment"
    assert comment_create(actor=me, issue=issue, body="pytest: 40 passed", kind="evidence").kind == "evidence"
    for actor in (me, BOARD):
        with pytest.raises(InvalidInput) as exc:
            comment_create(actor=actor, issue=issue, body="I am the system", kind="system")
        assert exc.value.extra["field"] == "kind"
    with pytest.raises(InvalidInput):
        comment_create(actor=me, issue=issue, body="x", kind="shout")
    with pytest.raises(InvalidInput):
        comment_create(actor=me, issue=issue, body="   ")
    note = system_comment(issue=issue, body="Run failed")
    assert (note.kind, note.author_agent, note.author_label) == ("system", None, "system")
    assert list(issue.comments.values_list("kind", flat=True)) == ["comment", "evidence", "system"]
    first = Comment.objects.filter(issue=issue).first()
    assert first is not None and first.author_agent == dev


def test_it_publishes_comment_events(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    issue = make_issue(org, assignee=dev)
    comment_create(actor=Actor.for_agent(dev), issue=issue, body="Evidence here", kind="evidence")
    event = Event.objects.filter(type="comment_created").get()
    assert {"issue_key", "kind", "actor_kind", "actor_agent_id", "body"} <= set(event.data)
    assert (event.data["issue_key"], event.data["kind"], event.data["actor_kind"]) == (issue.key, "evidence", "agent")
    assert (event.data["actor_agent_id"], event.data["body"]) == (dev.pk, "Evidence here")
    activity = Activity.objects.filter(verb="commented").get()
    assert activity.details["kind"] == "evidence" and activity.actor_agent == dev


# --- events and activity ----------------------------------------------------------------------------------


def test_it_writes_activity_and_events_for_each_mutation(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    ceo = make_ceo(org)
    start = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    issue = issue_create(actor=Actor.for_agent(dev), org=org, title="Build it", assignee=dev)
    issue_transition(actor=Actor.for_agent(dev), issue=issue, to=Status.IN_PROGRESS)
    issue_update(actor=Actor.for_agent(dev), issue=issue, priority=2)
    other = make_issue(org, title="Other")
    relation_add(actor=BOARD, source=issue, target=other, kind="blocks")
    issue_delete(actor=Actor.for_agent(ceo), issue=other)
    types = list(Event.objects.filter(id__gt=start).exclude(type="activity").values_list("type", flat=True))
    assert types == [
        "issue_created",
        "issue_updated",
        "issue_updated",
        "issue_created",
        "issue_updated",
        "issue_deleted",
    ]
    created = Event.objects.filter(type="issue_created", data__key=issue.key).get()
    assert {"key", "status", "assignee", "assignee_id", "actor_agent_id", "title", "priority"} <= set(created.data)
    assert created.data["actor_agent_id"] == dev.pk and created.data["status"] == "todo"
    moved = Event.objects.filter(type="issue_updated", data__from_status="todo").get()
    assert {"key", "status", "assignee", "assignee_id", "changes", "from_status", "actor_agent_id"} <= set(moved.data)
    assert (moved.data["status"], moved.data["assignee"], moved.data["actor_agent_id"]) == (
        "in_progress",
        "dev",
        dev.pk,
    )
    assert Event.objects.filter(type="issue_deleted").get().data == {"key": other.key}
    verbs = list(Activity.objects.filter(id__gt=0, object_type="issue").order_by("id").values_list("verb", flat=True))
    assert verbs == ["created", "moved", "updated", "created", "related", "deleted"]
    # every activity row has its live event
    assert (
        Event.objects.filter(type="activity", id__gt=start).count()
        == Activity.objects.filter(object_type="issue").count()
    )
    assert Issue.objects.get(pk=issue.pk).created_by_agent == dev


def test_it_makes_sub_issues_top_level_when_the_parent_is_deleted(org: Any) -> None:
    parent = make_issue(org, title="parent")
    child = make_issue(org, title="child", parent=parent)
    issue_delete(actor=BOARD, issue=parent)
    assert Issue.objects.get(pk=child.pk).parent_id is None


def test_it_lets_only_the_board_or_ceo_delete(org: Any) -> None:
    dev = make_agent(org, slug="dev")
    issue = make_issue(org, assignee=dev)
    with pytest.raises(Forbidden):
        issue_delete(actor=Actor.for_agent(dev), issue=issue)
    with pytest.raises(Forbidden):
        issue_delete(actor=Actor(kind="human", label="guest"), issue=issue)
    assert Issue.objects.filter(pk=issue.pk).exists()


def test_it_manages_relations(org: Any) -> None:
    a = make_issue(org, title="a")
    b = make_issue(org, title="b")
    relation_add(actor=BOARD, source=a, target=b, kind="blocked_by")
    assert IssueRelation.objects.filter(source=b, target=a, kind="blocks").exists()
    relation_add(actor=BOARD, source=a, target=b, kind="blocked_by")  # idempotent
    assert IssueRelation.objects.count() == 1
    with pytest.raises(Conflict):
        relation_add(actor=BOARD, source=a, target=b, kind="blocks")  # mutual block
    with pytest.raises(InvalidInput):
        relation_add(actor=BOARD, source=a, target=a, kind="relates_to")
    with pytest.raises(InvalidInput):
        relation_add(actor=BOARD, source=a, target=make_issue(make_org(slug="o")), kind="relates_to")
    relation_remove(actor=BOARD, source=a, target=b, kind="blocked_by")
    assert not IssueRelation.objects.exists()


def test_it_refuses_an_agent_creating_issues_in_another_org(org: Any) -> None:
    outsider = make_agent(make_org(slug="other"), slug="spy")
    with pytest.raises(Forbidden):
        issue_create(actor=Actor.for_agent(outsider), org=org, title="Sneaky")
    assert not Issue.objects.filter(org=org).exists()


def test_it_refuses_deletes_and_labels_from_an_agent_of_another_org(org: Any) -> None:
    outsider = Actor.for_agent(make_ceo(make_org(slug="other")))  # a CEO, but of another org
    issue = make_issue(org)
    with pytest.raises(Forbidden):
        issue_delete(actor=outsider, issue=issue)
    with pytest.raises(Forbidden):
        label_create(actor=outsider, org=org, name="planted")
    assert Issue.objects.filter(pk=issue.pk).exists()
    assert not org.labels.exists()


def test_it_detects_duplicate_titles_case_insensitively_beyond_ascii(org: Any) -> None:
    first = make_issue(org, title="Über-Export schlägt fehl")
    with pytest.raises(Conflict) as exc:
        make_issue(org, title="über-export SCHLÄGT  fehl")
    assert exc.value.extra["existing_key"] == first.key
    assert make_issue(org, title="Über-Export schlägt NICHT fehl").key == "ACME-2"


def test_it_refuses_to_unassign_started_work_and_changes_nothing(org: Any) -> None:

    agent = make_agent(org, slug="holder")
    issue = make_issue(org, title="Started work", assignee=agent)
    issue_transition(actor=Actor.system(), issue=issue, to="in_progress")
    with pytest.raises(InvalidInput) as exc:
        issue_update(actor=Actor.human(label="alice"), issue=issue, assignee=None)
    assert exc.value.code == "use_release"
    issue.refresh_from_db()
    assert issue.assignee_id == agent.pk and issue.status == "in_progress"

from __future__ import annotations

from typing import Any

import pytest

from issues.models import Issue
from tests.factories import (
    make_agent,
    make_comment,
    make_issue,
    make_issues_bulk,
    make_label,
    make_org,
    make_run,
    make_work_block,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str) -> dict[str, str]:
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": target}


def test_it_renders_the_board_with_columns_cards_and_the_contract_hooks(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="builder", name="Builder")
    label = make_label(org, name="backend", color="#112233")
    parent = make_issue(org, title="Ship the board", assignee=agent, priority=4, labels=["backend"])
    make_issue(org, title="A child", parent=parent)
    response = client.get("/issues/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="board-columns"' in body and "mesa:issue_updated from:body" in body
    assert "ACME-1" in body and "Ship the board" in body and label.name in body
    assert "⊟ 0/1" in body  # sub-issue count on the parent's card
    assert 'data-nav-item href="/issues/ACME-1/"' in body
    assert 'id="quick-create"' in body and 'name="title" autofocus' in body
    assert 'id="global-search"' in body and 'id="toasts"' in body and 'id="theme-toggle"' in body
    assert 'data-theme="dark"' in body and 'data-page="board"' in body and 'data-org="acme"' in body
    assert "X-CSRFToken" in body and "django_htmx/htmx-2.min.js" in body and "js/mesa.js" in body


def test_it_renders_only_the_columns_for_htmx(client: Any, org: Any) -> None:
    make_issue(org, title="Partial me")
    response = client.get("/issues/?q=partial", **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="board-columns"') and "<html" not in body
    assert "Partial me" in body


def test_it_filters_the_board(client: Any, org: Any) -> None:
    builder = make_agent(org, slug="builder")
    block = make_work_block(org, title="Sprint")
    make_label(org, name="ui")
    make_issue(org, title="Mine", assignee=builder, priority=3, labels=["ui"], work_block=block, type="bug")
    make_issue(org, title="Someone else")
    for query in ("assignee=builder", "label=ui", "priority=3", "type=bug", f"block={block.pk}", "q=mine"):
        body = client.get(f"/issues/?{query}").content.decode()
        assert "Mine" in body and "Someone else" not in body, query
    body = client.get("/issues/?assignee=none").content.decode()
    assert "Someone else" in body and ">Mine<" not in body


def test_it_remembers_the_list_view_in_a_cookie(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="builder", name="Builder")
    make_issue(org, title="Listed", assignee=agent)
    response = client.get("/issues/?view=list&group=assignee")
    assert response.cookies["mesa_board_view"].value == "list"
    body = response.content.decode()
    assert 'class="list-row" data-nav-item' in body and "Builder" in body
    assert 'class="list-row"' in client.get("/issues/").content.decode()


def test_it_caps_each_column_and_links_to_the_rest(client: Any, org: Any, settings: Any) -> None:
    settings.MESA_BOARD_COLUMN_LIMIT = 5
    make_issues_bulk(org, 12, statuses=["todo"])
    body = client.get("/issues/").content.decode()
    assert body.count('class="card"') == 5
    assert "Show 7 more" in body


@pytest.mark.parametrize("query", ["", "?view=list", "?view=list&group=assignee", "?view=list&group=none", "?q=bulk"])
def test_it_renders_the_board_of_1000_issues_in_bounded_queries(
    client: Any, org: Any, django_assert_max_num_queries: Any, query: str
) -> None:
    agents = [make_agent(org, slug=f"agent-{i}") for i in range(3)]
    make_label(org, name="ui")
    make_issues_bulk(org, 1000, assignee=agents[0])
    with django_assert_max_num_queries(12):
        response = client.get(f"/issues/{query}")
    assert response.status_code == 200
    assert "ACME-1000" in response.content.decode() or "Bulk issue" in response.content.decode()


def test_it_moves_a_card_through_the_lifecycle(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="builder")
    issue = make_issue(org, title="Move me", assignee=agent)
    response = client.post(f"/issues/{issue.key}/move", {"status": "in_progress"}, **HTMX)
    assert response.status_code == 200
    assert 'id="board-columns"' in response.content.decode()
    issue.refresh_from_db()
    assert issue.status == "in_progress"


def test_it_refuses_an_illegal_move_with_the_reason_and_changes_nothing(client: Any, org: Any) -> None:
    issue = make_issue(org, title="Stay put")
    response = client.post(f"/issues/{issue.key}/move", {"status": "done"}, **HTMX)
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#toasts"
    assert "cannot move from todo to done" in response.content.decode()
    issue.refresh_from_db()
    assert issue.status == "todo" and issue.completed_at is None


def test_it_refuses_an_illegal_move_without_htmx_with_a_message(client: Any, org: Any) -> None:
    issue = make_issue(org, title="Stay put")
    response = client.post(f"/issues/{issue.key}/move", {"status": "done"}, follow=True)
    assert "cannot move from todo to done" in response.content.decode()
    issue.refresh_from_db()
    assert issue.status == "todo"


def test_it_creates_an_issue_from_the_quick_create_form(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="builder")
    response = client.post(
        "/issues/new", {"title": "Fresh idea", "description": "**bold**", "priority": "3", "assignee": "builder"}
    )
    issue = Issue.objects.get(org=org, title="Fresh idea")
    assert response.status_code == 302 and response["Location"] == f"/issues/{issue.key}/"
    assert issue.assignee == agent and issue.priority == 3
    assert issue.created_by_label == "local"


def test_it_keeps_the_input_and_links_the_duplicate_when_create_fails(client: Any, org: Any) -> None:
    existing = make_issue(org, title="Same title")
    response = client.post("/issues/new", {"title": "same  title", "description": "my long text"})
    body = response.content.decode()
    assert response.status_code == 409
    assert "my long text" in body and f"/issues/{existing.key}/" in body
    assert Issue.objects.filter(org=org).count() == 1


def test_it_renders_the_issue_page_with_everything(client: Any, org: Any, django_assert_max_num_queries: Any) -> None:
    agent = make_agent(org, slug="builder", name="Builder")
    issue = make_issue(org, title="Full page", description="Some **bold** <script>alert(1)</script>", assignee=agent)
    make_issue(org, title="Kid", parent=issue)
    other = make_issue(org, title="Other")
    from issues.relations import relation_add
    from tests.factories import SYSTEM

    relation_add(actor=SYSTEM, source=issue, target=other, kind="blocks")
    make_comment(issue, body="A *comment*")
    run = make_run(agent, issue=issue, status="completed", diff="--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n")
    run.events.create(seq=1, type="text", data={"text": "Working on **it**"})
    make_issues_bulk(org, 1000)
    with django_assert_max_num_queries(20):
        response = client.get(f"/issues/{issue.key}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<strong>bold</strong>" in body and "<script>alert" not in body
    assert "Kid" in body and "Other" in body and "blocks" in body
    assert "<em>comment</em>" in body and "Working on <strong>it</strong>" in body
    assert 'class="add">+new' in body and 'class="del">-old' in body
    assert 'id="field-status"' in body and 'id="field-assignee"' in body and 'id="field-priority"' in body
    assert f'data-issue-key="{issue.key}"' in body and 'data-page="issue"' in body
    assert "detail.issue_key==" in body  # runs and comments refresh only for this issue


def test_it_renders_issue_sections_as_partials(client: Any, org: Any) -> None:
    issue = make_issue(org, title="Sections")
    make_comment(issue, body="Hello there")
    for target, marker in (
        ("issue-props", "field-status"),
        ("issue-comments", "Hello there"),
        ("issue-runs", "No runs"),
    ):
        body = client.get(f"/issues/{issue.key}/", **htmx(target)).content.decode()
        assert f'id="{target}"' in body and marker in body and "<html" not in body


def test_it_edits_fields_in_place(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="builder")
    block = make_work_block(org)
    make_label(org, name="ui")
    issue = make_issue(org, title="Edit me")
    url = f"/issues/{issue.key}/edit"
    assert client.post(url, {"assignee": "builder"}, **htmx("issue-props")).status_code == 200
    assert client.post(url, {"priority": "4"}, **htmx("issue-props")).status_code == 200
    assert client.post(url, {"work_block": str(block.pk)}, **htmx("issue-props")).status_code == 200
    assert client.post(url, {"labels_present": "1", "labels": ["ui"]}, **htmx("issue-props")).status_code == 200
    response = client.post(url, {"status": "in_progress"}, **htmx("issue-props"))
    assert response.status_code == 200 and 'id="issue-props"' in response.content.decode()
    issue.refresh_from_db()
    assert (issue.assignee, issue.priority, issue.work_block, issue.status) == (agent, 4, block, "in_progress")
    assert [lab.name for lab in issue.labels.all()] == ["ui"]


def test_it_shows_an_inline_error_for_a_refused_edit(client: Any, org: Any) -> None:
    issue = make_issue(org, title="No assignee")
    response = client.post(f"/issues/{issue.key}/edit", {"status": "in_progress"}, **htmx("issue-props"))
    assert response.status_code == 400
    assert "has no assignee" in response.content.decode()
    issue.refresh_from_db()
    assert issue.status == "todo"


def test_it_edits_title_and_description(client: Any, org: Any) -> None:
    issue = make_issue(org, title="Old")
    response = client.post(f"/issues/{issue.key}/edit", {"title": "New", "description": "desc"}, **htmx("issue-main"))
    assert response.status_code == 200 and "New" in response.content.decode()
    issue.refresh_from_db()
    assert (issue.title, issue.description) == ("New", "desc")


def test_it_adds_a_comment_and_keeps_an_empty_one_out(client: Any, org: Any) -> None:
    issue = make_issue(org, title="Talk")
    response = client.post(f"/issues/{issue.key}/comment", {"body": "Looks **good**"}, **htmx("issue-comments"))
    assert response.status_code == 200 and "<strong>good</strong>" in response.content.decode()
    assert issue.comments.get().author_label == "local"
    response = client.post(f"/issues/{issue.key}/comment", {"body": "   "}, **htmx("issue-comments"))
    assert response.status_code == 400 and "needs a body" in response.content.decode()
    assert issue.comments.count() == 1


def test_it_relates_issues_and_creates_sub_issues(client: Any, org: Any) -> None:
    issue = make_issue(org, title="Parent")
    other = make_issue(org, title="Other")
    client.post(f"/issues/{issue.key}/relate", {"kind": "blocked_by", "target": other.key})
    assert other.relations_out.get().target == issue
    response = client.post("/issues/new", {"title": "Child", "parent": issue.key})
    assert response.status_code == 302
    assert issue.children.get().title == "Child"


def test_it_removes_a_relation_from_the_issue_page(client: Any, org: Any) -> None:
    issue = make_issue(org, title="Blocked one")
    blocker = make_issue(org, title="Blocker")
    client.post(f"/issues/{issue.key}/relate", {"kind": "blocked_by", "target": blocker.key})
    page = client.get(f"/issues/{issue.key}/").content.decode()
    assert f'aria-label="Remove the relation with {blocker.key}"' in page

    response = client.post(f"/issues/{issue.key}/unrelate", {"kind": "blocked_by", "target": blocker.key})
    assert response.status_code == 302
    assert not blocker.relations_out.exists()
    missing = client.post(
        f"/issues/{issue.key}/unrelate", {"kind": "blocked_by", "target": blocker.key}, HTTP_HX_REQUEST="true"
    )
    assert missing.status_code == 404  # nothing left to remove: said, not ignored


def test_it_hides_issues_of_another_org(client: Any, org: Any) -> None:
    other_org = make_org(issue_prefix="OTHER")
    foreign = make_issue(other_org, title="Secret")
    assert client.get(f"/issues/{foreign.key}/").status_code == 404
    response = client.post(f"/issues/{foreign.key}/edit", {"priority": "4"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.priority == 0


def test_it_requires_csrf_on_writes(org: Any) -> None:
    from django.test import Client

    issue = make_issue(org, title="Protected")
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/issues/{issue.key}/edit", {"priority": "4"}).status_code == 403
    assert strict.post("/issues/new", {"title": "x"}).status_code == 403


def test_it_escapes_titles_and_labels_on_hand_built_cards(client: Any, org: Any) -> None:
    make_label(org, name="<b>x</b>", color="#112233")
    make_issue(org, title='<img src=x onerror="alert(1)">', labels=["<b>x</b>"])
    for view in ("board", "list"):
        body = client.get(f"/issues/?view={view}").content.decode()
        assert '<img src=x onerror="alert(1)">' not in body and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body
        assert "<b>x</b>" not in body and "&lt;b&gt;x&lt;/b&gt;" in body


def test_it_sends_the_backlog_box_to_the_ceo_and_wakes_it(client: Any, org: Any, settings: Any, tmp_path: Any) -> None:
    from runners.backlog import backlog_read
    from runners.dispatch import dispatch_events
    from runners.models import Run
    from tests.factories import make_ceo

    settings.MESA_WORKSPACES_DIR = str(tmp_path / "ws")
    ceo = make_ceo(org, runner="noop")
    page = client.get("/issues/")
    assert 'id="backlog-box"' in page.content.decode()
    response = client.post("/issues/backlog", {"text": "Add CSV export of invoices"})
    assert response.status_code == 302
    assert "Add CSV export of invoices" in backlog_read(ceo)
    dispatch_events(0)  # the scheduler's reaction to the backlog_updated event
    assert Run.objects.filter(agent=ceo, mode="heartbeat").count() == 1
    empty = client.post("/issues/backlog", {"text": "  "}, follow=True)
    assert "Write what you want done" in empty.content.decode()


def test_it_ignores_odd_digits_in_board_filters_and_forms(client: Any, org: Any) -> None:

    issue = make_issue(org, title="Odd digits", priority=2)
    assert client.get("/issues/?priority=%C2%B2&block=%C2%B2&limit=%C2%B2").status_code == 200
    response = client.post(f"/issues/{issue.key}/edit", {"priority": "²"}, follow=True)
    assert response.status_code in (200, 400)
    issue.refresh_from_db()
    assert issue.priority == 2


def test_it_changes_nothing_when_one_part_of_an_edit_is_refused(client: Any, org: Any) -> None:

    issue = make_issue(org, title="Keep my title")
    # todo → done is illegal: the title change sent with it must not be saved either.
    response = client.post(f"/issues/{issue.key}/edit", {"title": "Half-done edit", "status": "done"}, follow=True)
    assert "cannot move from todo to done" in response.content.decode()
    issue.refresh_from_db()
    assert issue.title == "Keep my title" and issue.status == "todo"

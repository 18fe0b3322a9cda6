"""The issue URL's peek and sub-issue partials, create without navigation, and lost-update protection (issue 12)."""

from __future__ import annotations

import json
from typing import Any

from issues.models import Issue
from tests.factories import make_agent, make_comment, make_issue, make_org


def htmx(target: str) -> dict[str, str]:
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": target}


def test_it_renders_the_peek_partial_from_the_issue_url(client: Any, org: Any) -> None:
    agent = make_agent(org, slug="builder", name="Builder")
    issue = make_issue(org, title="Peek at me", description="**bold** text", assignee=agent)
    for n in range(7):
        make_comment(issue, body=f"comment number {n}")
    body = client.get(f"/issues/{issue.key}/", **htmx("peek-body")).content.decode()
    assert "<html" not in body and f'data-peek-key="{issue.key}"' in body
    assert "Peek at me" in body and "<strong>bold</strong>" in body and "Builder" in body
    assert f'href="/issues/{issue.key}/"' in body  # the full page
    assert "comment number 6" in body and "comment number 1" not in body  # the latest five


def test_it_keeps_the_peek_of_another_orgs_issue_hidden(client: Any, org: Any) -> None:
    foreign = make_issue(make_org(issue_prefix="OTHER"), title="Secret")
    assert client.get(f"/issues/{foreign.key}/", **htmx("peek-body")).status_code == 404


def test_it_creates_over_htmx_without_navigating(client: Any, org: Any) -> None:
    parent = make_issue(org, title="Parent")
    response = client.post("/issues/new", {"title": "Child task", "parent": parent.key}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert "HX-Redirect" not in response.headers
    created = json.loads(response["HX-Trigger"])["mesa-created"]
    child = Issue.objects.get(title="Child task")
    assert created == {"key": child.key, "title": "Child task", "url": f"/issues/{child.key}/"}
    assert child.parent_id == parent.pk
    children = client.get(f"/issues/{parent.key}/", **htmx("issue-children")).content.decode()
    assert children.lstrip().startswith('<div id="issue-children"') and "Child task" in children


def test_it_shows_lint_warnings_inline_for_a_quick_create(client: Any, org: Any) -> None:
    post = {"title": "A feature", "type": "feature", "description": "x"}
    response = client.post("/issues/new", post, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "data-create-warnings" in body and 'name="ack_warnings"' in body
    assert not Issue.objects.filter(title="A feature").exists()
    again = client.post("/issues/new", {**post, "ack_warnings": "1"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 204 and Issue.objects.filter(title="A feature").exists()


def test_it_refuses_a_save_over_someone_elses_change_and_keeps_the_text(client: Any, org: Any) -> None:
    issue = make_issue(org, title="Original", description="v1")
    seen = issue.updated_at.isoformat()
    # Someone else saves first.
    assert client.post(f"/issues/{issue.key}/edit", {"description": "theirs"}).status_code == 302
    response = client.post(
        f"/issues/{issue.key}/edit",
        {"title": "Original", "description": "my careful text", "version": seen},
        **htmx("issue-main"),
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert (
        'data-edit-error="edit_conflict"' in body and "my careful text" in body and 'data-editing="description"' in body
    )
    issue.refresh_from_db()
    assert issue.description == "theirs"


def test_it_saves_an_edit_made_on_the_current_version(client: Any, org: Any) -> None:
    issue = make_issue(org, title="Original", description="v1")
    response = client.post(
        f"/issues/{issue.key}/edit",
        {"title": "Renamed", "description": "v2", "version": issue.updated_at.isoformat()},
        **htmx("issue-main"),
    )
    assert response.status_code == 200 and "data-edit-error" not in response.content.decode()
    issue.refresh_from_db()
    assert (issue.title, issue.description) == ("Renamed", "v2")


def test_it_renders_the_inline_editor_with_its_version(client: Any, org: Any) -> None:
    issue = make_issue(org, title="Edit me")
    body = client.get(f"/issues/{issue.key}/").content.decode()
    assert 'data-edit-open="title"' in body and "data-editor" in body
    assert f'name="version" value="{issue.updated_at.isoformat()}"' in body
    assert 'id="mesa-mention-agents"' in body

from __future__ import annotations

from typing import Any

from tests.factories import make_org, make_wiki_page
from wiki.models import WikiPage


def test_it_lists_and_searches_pages(client: Any, org: Any, django_assert_max_num_queries: Any) -> None:
    make_wiki_page(org, title="Deployment guide", content="Run make run.")
    make_wiki_page(org, title="Coding standards", content="Use services.")
    with django_assert_max_num_queries(8):
        body = client.get("/wiki/").content.decode()
    assert "Deployment guide" in body and "Coding standards" in body
    body = client.get("/wiki/?q=deploy").content.decode()
    assert "Deployment guide" in body and "Coding standards" not in body
    part = client.get("/wiki/?q=services", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="wiki-results").content.decode()
    assert part.startswith('<div id="wiki-results"') and "Coding standards" in part


def test_it_renders_markdown_safely(client: Any, org: Any) -> None:
    make_wiki_page(org, title="Safe", content="# Title\n\n<script>alert(1)</script> [x](javascript:alert(1)) **ok**")
    body = client.get("/wiki/safe/").content.decode()
    assert "<h1>Title</h1>" in body and "<strong>ok</strong>" in body
    assert "<script>alert" not in body and "javascript:alert" not in body


def test_it_creates_and_edits_a_page(client: Any, org: Any) -> None:
    response = client.post("/wiki/new", {"title": "Runbook", "content": "v1"})
    assert response["Location"] == "/wiki/runbook/"
    response = client.post("/wiki/runbook/edit", {"title": "Runbook", "content": "v2", "base_revision": "1"})
    assert response.status_code == 302
    page = WikiPage.objects.get(org=org, slug="runbook")
    assert (page.content, page.revision) == ("v2", 2)
    history = client.get("/wiki/runbook/history?r=1").content.decode()
    assert "r2" in history and "r1" in history and "v1" in history


def test_it_refuses_a_stale_edit_and_keeps_the_text(client: Any, org: Any) -> None:
    make_wiki_page(org, title="Shared", content="original")
    client.post("/wiki/shared/edit", {"title": "Shared", "content": "theirs", "base_revision": "1"})
    response = client.post("/wiki/shared/edit", {"title": "Shared", "content": "mine", "base_revision": "1"})
    body = response.content.decode()
    assert response.status_code == 409 and "edited by someone else" in body and "mine" in body
    assert WikiPage.objects.get(org=org, slug="shared").content == "theirs"


def test_it_shows_create_errors_inline(client: Any, org: Any) -> None:
    make_wiki_page(org, title="Taken")
    response = client.post("/wiki/new", {"title": "Taken", "content": "keep me"})
    assert response.status_code == 409 and "keep me" in response.content.decode()


def test_it_hides_pages_of_another_org(client: Any, org: Any) -> None:
    page = make_wiki_page(make_org(), title="Private", content="secret plans")
    assert client.get("/wiki/private/").status_code == 404
    assert client.post("/wiki/private/edit", {"title": "x", "content": "y"}).status_code == 404
    assert client.post("/wiki/private/delete").status_code == 404
    page.refresh_from_db()
    assert (page.title, page.content, page.deleted_at) == ("Private", "secret plans", None)
    assert page.revisions.count() == 1


def test_it_deletes_and_restores_a_page_from_the_pages(client: Any, org: Any) -> None:
    make_wiki_page(org, title="Runbook", content="steps")
    assert 'action="/wiki/runbook/delete"' in client.get("/wiki/runbook/").content.decode()
    assert client.post("/wiki/runbook/delete")["Location"] == "/wiki/"
    listing = client.get("/wiki/").content.decode()
    assert 'action="/wiki/runbook/restore"' in listing and 'href="/wiki/runbook/"' not in listing
    assert client.get("/wiki/runbook/").status_code == 404
    assert client.post("/wiki/runbook/restore")["Location"] == "/wiki/runbook/"
    assert "steps" in client.get("/wiki/runbook/").content.decode()

"""Wiki pages over the API: list (no content), get, create, update with revisions, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.models import Agent
from orgs.models import Activity, Event, Org
from tests.factories import make_wiki_page
from wiki.models import WikiPage


def test_it_lists_pages_without_content(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    make_wiki_page(api_org, title="Beta", content="secret body")
    make_wiki_page(api_org, title="Alpha", content="more body")
    body = call("GET", "wiki", board_key).json()
    assert [p["slug"] for p in body["results"]] == ["alpha", "beta"]
    assert all("content" not in p for p in body["results"])
    assert body["count"] == 2


def test_it_lists_an_empty_wiki_as_an_empty_list(call: Callable[..., Any], board_key: str) -> None:
    body = call("GET", "wiki", board_key).json()
    assert body["results"] == []
    assert body["count"] == 0


def test_it_lists_many_pages_in_a_bounded_number_of_queries(
    call: Callable[..., Any], api_org: Org, board_key: str, django_assert_max_num_queries: Any
) -> None:
    for i in range(40):
        make_wiki_page(api_org, title=f"Page {i:02d}")
    with django_assert_max_num_queries(4):
        body = call("GET", "wiki?limit=30", board_key).json()
    assert len(body["results"]) == 30
    assert body["count"] == 40


def test_it_creates_a_page_as_an_agent(
    call: Callable[..., Any], engineer: Agent, agent_key: Callable[[Agent], str]
) -> None:
    resp = call("POST", "wiki", agent_key(engineer), {"title": "  Deploy: How-To! ", "content": "Step 1"})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["slug"] == "deploy-how-to"
    assert body["title"] == "Deploy: How-To!"
    assert body["content"] == "Step 1"
    assert body["revision"] == 1
    assert body["created_by"] == "engineer"
    assert Event.objects.filter(type="wiki_updated", data__slug="deploy-how-to").exists()


def test_it_takes_an_explicit_slug_and_refuses_a_duplicate(call: Callable[..., Any], board_key: str) -> None:
    assert call("POST", "wiki", board_key, {"title": "Runbook", "slug": "ops/Runbook"}).json()["slug"] == "ops-runbook"
    resp = call("POST", "wiki", board_key, {"title": "Ops runbook"})
    assert resp.status_code == 409
    assert resp.json()["code"] == "duplicate"
    assert resp.json()["slug"] == "ops-runbook"


def test_it_keeps_page_slugs_clear_of_the_search_route(call: Callable[..., Any], board_key: str) -> None:
    assert call("POST", "wiki", board_key, {"title": "Search"}).json()["slug"] == "search-page"
    assert call("GET", "wiki/search-page", board_key).status_code == 200
    assert call("GET", "wiki/search?q=search", board_key).json()["results"][0]["slug"] == "search-page"


def test_it_refuses_bad_input(call: Callable[..., Any], board_key: str) -> None:
    for body, field in (
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "!!!"}, "title"),
        ({"title": 5}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "bogus": 1}, "bogus"),
    ):
        resp = call("POST", "wiki", board_key, body)
        assert resp.status_code == 400, body
        assert resp.json()["field"] == field, (body, resp.json())
    resp = call("POST", "wiki", board_key, data=b"{not json", content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["code"] == "malformed_json"
    resp = call("POST", "wiki", board_key, data=b"title=x", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415
    assert not WikiPage.objects.exists()


def test_it_gets_a_page_with_content(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    make_wiki_page(api_org, title="Guide", content="# Hello")
    body = call("GET", "wiki/guide", board_key).json()
    assert body["content"] == "# Hello"
    assert body["revision"] == 1
    assert call("GET", "wiki/GUIDE", board_key).status_code == 200
    resp = call("GET", "wiki/missing", board_key)
    assert resp.status_code == 404
    assert resp.json()["code"] == "not_found"
    assert call("GET", "wiki/a/b/c", board_key).status_code == 404


def test_it_keeps_a_revision_on_every_edit(
    call: Callable[..., Any], api_org: Org, engineer: Agent, agent_key: Callable[[Agent], str]
) -> None:
    make_wiki_page(api_org, title="Guide", content="v1")
    key = agent_key(engineer)
    resp = call("PATCH", "wiki/guide", key, {"content": "v2", "base_revision": 1})
    assert resp.status_code == 200, resp.content
    assert resp.json()["revision"] == 2
    assert resp.json()["updated_by"] == "engineer"
    assert call("PATCH", "wiki/guide", key, {"title": "Guide (new)"}).json()["revision"] == 3
    revisions = call("GET", "wiki/guide/revisions", key).json()["results"]
    assert [(r["number"], r["title"], r["content"]) for r in revisions] == [
        (3, "Guide (new)", "v2"),
        (2, "Guide", "v2"),
        (1, "Guide", "v1"),
    ]
    assert revisions[0]["author"] == "engineer"
    assert Activity.objects.filter(verb="edited", object_id="guide").count() == 2


def test_it_refuses_a_stale_edit(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    make_wiki_page(api_org, title="Guide", content="v1")
    assert call("PATCH", "wiki/guide", board_key, {"content": "mine", "base_revision": 1}).status_code == 200
    resp = call("PATCH", "wiki/guide", board_key, {"content": "theirs", "base_revision": 1})
    assert resp.status_code == 409
    assert resp.json()["code"] == "stale"
    assert WikiPage.objects.get(slug="guide").content == "mine"


def test_it_refuses_a_bad_edit(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    make_wiki_page(api_org, title="Guide")
    assert call("PATCH", "wiki/guide", board_key, {"title": ""}).json()["field"] == "title"
    assert call("PATCH", "wiki/guide", board_key, {"base_revision": "1"}).json()["field"] == "base_revision"
    assert call("PATCH", "wiki/guide", board_key, {"base_revision": 0}).json()["field"] == "base_revision"
    assert call("PATCH", "wiki/nope", board_key, {"title": "x"}).status_code == 404


def test_it_deletes_a_page(
    call: Callable[..., Any], api_org: Org, designer: Agent, agent_key: Callable[[Agent], str]
) -> None:
    make_wiki_page(api_org, title="Old")
    key = agent_key(designer)  # anyone in the org may write the wiki, but only the board, CEO, author delete
    refused = call("DELETE", "wiki/old", key)
    assert refused.status_code == 403 and refused.json()["code"] == "not_author"
    call("POST", "wiki", key, {"title": "Mine"})
    assert call("DELETE", "wiki/mine", key).status_code == 204
    assert WikiPage.objects.get(slug="mine").deleted_at is not None  # soft: the row and its revisions stay
    assert call("DELETE", "wiki/mine", key).status_code == 404
    assert call("POST", "wiki/old/restore", key).status_code == 404  # not deleted
    assert call("POST", "wiki/mine/restore", key).json()["slug"] == "mine"


def test_it_hides_other_orgs_pages(
    call: Callable[..., Any], api_org: Org, outsider: Agent, agent_key: Callable[[Agent], str]
) -> None:
    make_wiki_page(api_org, title="Internal")
    key = agent_key(outsider)
    assert call("GET", "wiki/internal", key).status_code == 404
    assert call("PATCH", "wiki/internal", key, {"content": "x"}).status_code == 404
    assert call("DELETE", "wiki/internal", key).status_code == 404
    assert call("GET", "wiki/internal/revisions", key).status_code == 404
    assert call("GET", "wiki", key).json()["results"] == []
    assert WikiPage.objects.get(slug="internal").content == ""


def test_it_needs_a_key(call: Callable[..., Any], api_org: Org) -> None:
    make_wiki_page(api_org, title="Guide")
    for method, path in (("GET", "wiki"), ("GET", "wiki/guide"), ("POST", "wiki"), ("DELETE", "wiki/guide")):
        resp = call(method, path, None)
        assert resp.status_code == 401
        assert resp.json()["code"] == "missing_key"
    assert call("GET", "wiki", "mesa_board_bogus").status_code == 401


def test_it_refuses_a_body_over_the_size_limit(call: Callable[..., Any], board_key: str, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    resp = call("POST", "wiki", board_key, {"title": "Big", "content": "x" * 20_000})
    assert resp.status_code == 413
    assert resp.json()["code"] == "too_large"
    assert not WikiPage.objects.exists()

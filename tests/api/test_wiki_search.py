"""Wiki search: FTS5 ranking with prefix matching and snippets, fuzzy title/slug matching, one merged list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from agents.models import Agent
from orgs.actors import Actor
from orgs.models import Org
from tests.factories import make_wiki_page
from wiki.search import edit_distance, query_tokens, wiki_search, word_score
from wiki.services import wiki_page_delete, wiki_page_update

SYSTEM = Actor.system("tests")


def _slugs(resp: Any) -> list[str]:
    assert resp.status_code == 200, resp.content
    return [hit["slug"] for hit in resp.json()["results"]]


def test_it_finds_a_page_by_a_word_prefix(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    make_wiki_page(api_org, title="Deployment Guide", content="How we ship to production with blue-green deploys.")
    make_wiki_page(api_org, title="Coding Style", content="Tabs versus spaces.")
    assert _slugs(call("GET", "wiki/search?q=deplo", board_key)) == ["deployment-guide"]
    assert _slugs(call("GET", "wiki/search?q=produc", board_key)) == ["deployment-guide"]


def test_it_requires_every_word_and_ranks_title_matches_first(
    call: Callable[..., Any], api_org: Org, board_key: str
) -> None:
    make_wiki_page(api_org, title="Release notes", content="We cut a release of the billing service every week.")
    make_wiki_page(
        api_org, title="Billing service", content="The billing service charges customers; see release notes."
    )
    make_wiki_page(api_org, title="Onboarding", content="Read about billing on day one.")
    slugs = _slugs(call("GET", "wiki/search?q=billing%20serv", board_key))
    assert slugs == ["billing-service", "release-notes"]  # Onboarding lacks "serv*"
    assert _slugs(call("GET", "wiki/search?q=billing", board_key))[0] == "billing-service"


def test_it_marks_the_match_in_the_snippet(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    filler = " ".join(f"word{i}" for i in range(80))
    make_wiki_page(api_org, title="Runbook", content=f"{filler} restart the scheduler with make run. {filler}")
    hit = call("GET", "wiki/search?q=schedul", board_key).json()["results"][0]
    assert "**scheduler**" in hit["snippet"]
    assert "…" in hit["snippet"]  # a window of the long page, not all of it
    assert set(hit) == {"slug", "title", "snippet", "score", "updated_at"}
    assert hit["score"] > 0


def test_it_tolerates_typos_in_titles_and_slugs(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    make_wiki_page(api_org, title="Deployment Guide", content="Nothing about the query words here.")
    make_wiki_page(api_org, title="Coding Style", content="x")
    resp = call("GET", "wiki/search?q=deplyoment", board_key)
    assert _slugs(resp) == ["deployment-guide"]
    assert resp.json()["results"][0]["snippet"] == "**Deployment** Guide"
    assert _slugs(call("GET", "wiki/search?q=codng%20stile", board_key)) == ["coding-style"]


def test_it_does_not_match_unrelated_short_words(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    make_wiki_page(api_org, title="Cat care", content="Feed the cat.")
    assert _slugs(call("GET", "wiki/search?q=cab", board_key)) == []
    assert _slugs(call("GET", "wiki/search?q=zebra", board_key)) == []


def test_it_ranks_pages_matching_both_ways_above_fuzzy_only(
    call: Callable[..., Any], api_org: Org, board_key: str
) -> None:
    make_wiki_page(api_org, title="Deployment", content="deployment steps")
    make_wiki_page(api_org, title="Deploymant notes", content="typo in the title only")
    resp = call("GET", "wiki/search?q=deployment", board_key)
    slugs = _slugs(resp)
    assert slugs == ["deployment", "deploymant-notes"]
    scores = [hit["score"] for hit in resp.json()["results"]]
    assert scores[0] > scores[1]


def test_it_keeps_the_index_in_sync_with_edits_and_deletes(
    call: Callable[..., Any], api_org: Org, board_key: str
) -> None:
    page = make_wiki_page(api_org, title="Notes", content="the old zeppelin text")
    assert _slugs(call("GET", "wiki/search?q=zeppelin", board_key)) == ["notes"]
    wiki_page_update(actor=SYSTEM, page=page, content="now about submarines")
    assert _slugs(call("GET", "wiki/search?q=zeppelin", board_key)) == []
    assert _slugs(call("GET", "wiki/search?q=submarine", board_key)) == ["notes"]
    wiki_page_delete(actor=SYSTEM, page=page)
    assert _slugs(call("GET", "wiki/search?q=submarine", board_key)) == []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM wiki_page_fts")
            assert cursor.fetchone()[0] == 0


def test_it_only_searches_the_callers_org(
    call: Callable[..., Any], api_org: Org, other_org: Org, outsider: Agent, agent_key: Callable[[Agent], str]
) -> None:
    make_wiki_page(api_org, title="Secret plans", content="launch codes")
    make_wiki_page(other_org, title="Public notes", content="launch party")
    assert _slugs(call("GET", "wiki/search?q=launch", agent_key(outsider))) == ["public-notes"]
    assert _slugs(call("GET", "wiki/search?q=secrte", agent_key(outsider))) == []


def test_it_refuses_an_empty_query_and_bad_limits(call: Callable[..., Any], board_key: str) -> None:
    for path in ("wiki/search", "wiki/search?q=", "wiki/search?q=%20%20"):
        resp = call("GET", path, board_key)
        assert resp.status_code == 400
        assert resp.json()["field"] == "q"
    assert call("GET", "wiki/search?q=x&limit=101", board_key).json()["field"] == "limit"
    assert call("GET", "wiki/search?q=x&limit=0", board_key).status_code == 400
    assert call("GET", "wiki/search?q=x", None).status_code == 401


def test_it_pages_results_with_a_default_of_twenty(call: Callable[..., Any], api_org: Org, board_key: str) -> None:
    for i in range(25):
        make_wiki_page(api_org, title=f"Topic {i:02d}", content="common word")
    body = call("GET", "wiki/search?q=common", board_key).json()
    assert len(body["results"]) == 20
    assert body["count"] == 25
    assert body["next"] is not None
    body = call("GET", "wiki/search?q=common&limit=100&offset=20", board_key).json()
    assert len(body["results"]) == 5


@pytest.mark.parametrize("q", ['"quoted"', "a*b", "NEAR(x y)", "AND OR NOT", "(((", "-", "é ü", "x\u200by"])
def test_it_survives_query_syntax_characters(call: Callable[..., Any], api_org: Org, board_key: str, q: str) -> None:
    make_wiki_page(api_org, title="Quoted AND near", content="quoted text near x")
    resp = call("GET", "wiki/search", board_key, data={"q": q})
    assert resp.status_code in (200, 400)
    if resp.status_code == 200:
        assert isinstance(resp.json()["results"], list)


def test_it_searches_in_a_bounded_number_of_queries(
    call: Callable[..., Any], api_org: Org, board_key: str, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        make_wiki_page(api_org, title=f"Guide {i}", content=f"deploy step {i}")
    # key lookup (+ touch), savepoint + full text + release, fuzzy candidates: never per page
    with django_assert_max_num_queries(6):
        resp = call("GET", "wiki/search?q=deploy", board_key)
    assert resp.json()["count"] == 30


def test_it_scores_words_with_prefixes_and_edits() -> None:
    assert query_tokens("Deploy  the DEPLOY guide!") == ["deploy", "the", "guide"]
    assert edit_distance("deplyoment", "deployment") == 1  # a swap is one edit
    assert edit_distance("kitten", "sitting") == 3
    assert word_score("deployment", "deployment") == 1.0
    assert 0.85 < word_score("deplo", "deployment") < 1.0
    assert word_score("deplyoment", "deployment") == pytest.approx(0.9)
    assert word_score("cat", "car") == 0.0  # short words need an exact or prefix match


def test_it_ranks_directly_through_the_search_function(api_org: Org) -> None:
    make_wiki_page(api_org, title="Alpha", content="beta gamma")
    make_wiki_page(api_org, title="Beta", content="alpha")
    hits = wiki_search(org=api_org, q="beta")
    assert [h.slug for h in hits] == ["beta", "alpha"]
    assert wiki_search(org=api_org, q="   ") == []

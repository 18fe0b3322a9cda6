from __future__ import annotations

from typing import Any

from issues.models import Issue, Status
from issues.selectors import title_similarity
from orgs.models import Org
from tests.factories import make_issue


def test_it_scores_titles_between_zero_and_one() -> None:
    assert title_similarity("Fix the login bug", "fix the LOGIN bug!") == 1.0
    assert title_similarity("Fix the login bug", "Fix login bug") > 0.7
    assert title_similarity("Fix the login bug", "Write the quarterly report") < 0.5
    assert title_similarity("", "anything") == 0.0


def test_it_finds_open_issues_with_similar_titles(call: Any, api_org: Org, board_key: str) -> None:
    close = make_issue(api_org, title="Fix the login bug on Safari")
    closer = make_issue(api_org, title="Fix login bug")
    make_issue(api_org, title="Write the quarterly report")
    done = make_issue(api_org, title="Fix the login bug")
    Issue.objects.filter(pk=done.pk).update(status=Status.DONE)
    r = call("POST", "issues/similarity", board_key, {"title": "fix the login bug"})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert [x["key"] for x in body["results"]] == [closer.key, close.key]
    assert all(0.5 <= x["score"] <= 1 for x in body["results"])
    assert body["results"][0]["score"] >= body["results"][1]["score"]
    assert body["count"] == 2


def test_it_limits_and_validates(call: Any, api_org: Org, board_key: str) -> None:
    for n in range(15):
        make_issue(api_org, title=f"Improve the search page part {n}")
    body = call("POST", "issues/similarity", board_key, {"title": "Improve the search page"}).json()
    assert len(body["results"]) == 10
    limited = call("POST", "issues/similarity", board_key, {"title": "Improve the search page", "limit": 3}).json()
    assert len(limited["results"]) == 3
    assert call("POST", "issues/similarity", board_key, {}).json()["field"] == "title"
    assert call("POST", "issues/similarity", board_key, {"title": "x", "threshold": 2}).json()["field"] == "threshold"
    assert call("POST", "issues/similarity", board_key, {"title": "zzz qqq"}).json()["results"] == []

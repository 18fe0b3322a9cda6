from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from issues.models import Issue, Status
from orgs.actors import Actor
from orgs.services import membership_set
from runners.models import Run
from runners.services import scheduler_paused
from tests.factories import make_agent, make_issue, make_org, make_run, make_user, make_wiki_page
from web.fuzzy import score, score_token
from web.palette import palette_search

pytestmark = pytest.mark.django_db


def titles(hits: list[dict[str, str]], type_: str | None = None) -> list[str]:
    return [h["title"] for h in hits if type_ is None or h["type"] == type_]


def test_it_scores_only_subsequences() -> None:
    assert score_token("lgn", "Fix login page") is not None
    assert score_token("xyz", "Fix login page") is None
    assert score(["fix", "page"], "Fix login page") is not None
    assert score(["fix", "zzz"], "Fix login page") is None


def test_it_prefers_word_starts_and_runs_over_scattered_letters() -> None:
    # "lp" = login page (two word starts) beats letters buried inside words.
    word_starts, buried = score_token("lp", "Fix login page"), score_token("lp", "helpful")
    assert word_starts is not None and buried is not None
    assert word_starts > buried


def test_it_ranks_issues_by_fuzzy_match(org: Any) -> None:
    make_issue(org, title="Refactor the payment gateway")
    make_issue(org, title="Fix login redirect loop")
    make_issue(org, title="Flaky integration tests")
    hits = palette_search(org=org, q="login", types=["issue"])
    assert titles(hits) == ["Fix login redirect loop"]
    hits = palette_search(org=org, q="fl", types=["issue"])
    assert titles(hits)[0] == "Flaky integration tests"
    assert "Fix login redirect loop" in titles(hits)
    assert "Refactor the payment gateway" not in titles(hits)


def test_it_matches_a_fuzzy_fragment_across_words(org: Any) -> None:
    make_issue(org, title="Add rate limiting to the API")
    make_issue(org, title="Write the onboarding guide")
    hits = palette_search(org=org, q="ratlim", types=["issue"])
    assert titles(hits) == ["Add rate limiting to the API"]
    assert hits[0]["url"].endswith(f"/{hits[0]['key']}/")


def test_it_finds_an_issue_by_its_key(org: Any) -> None:
    for n in range(12):
        make_issue(org, title=f"Task {n}")
    hits = palette_search(org=org, q="acme-12", types=["issue"])
    assert hits[0]["key"] == "ACME-12"
    assert palette_search(org=org, q="7", types=["issue"])[0]["key"] == "ACME-7"


def test_it_searches_agents_wiki_pages_and_app_pages(org: Any) -> None:
    make_agent(org, name="Backend Engineer", slug="backend")
    make_wiki_page(org, title="Deployment guide")
    hits = palette_search(org=org, q="backend")
    assert hits[0]["type"] == "agent" and hits[0]["key"] == "backend"
    assert titles(palette_search(org=org, q="deploy"), "wiki") == ["Deployment guide"]
    pages = palette_search(org=org, q="board")
    assert pages[0]["type"] == "page" and pages[0]["title"] == "Board"


def test_it_never_shows_another_orgs_rows(org: Any) -> None:
    other = make_org(slug="other", issue_prefix="OTH")
    make_issue(other, title="Secret roadmap")
    make_agent(other, name="Secret agent", slug="secret")
    assert palette_search(org=org, q="secret") == []


def test_it_treats_like_wildcards_as_plain_text(org: Any) -> None:
    make_issue(org, title="100% coverage")
    make_issue(org, title="10 things")
    assert titles(palette_search(org=org, q="0%", types=["issue"])) == ["100% coverage"]
    assert titles(palette_search(org=org, q="_", types=["issue"])) == []


def test_it_keeps_the_search_endpoint_to_a_few_queries(
    client: Client, org: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(50):
        make_issue(org, title=f"Backlog item number {n}")
    make_agent(org, name="Builder", slug="builder")
    with django_assert_max_num_queries(6):
        response = client.get("/palette/search", {"q": "item 42", "org": "acme"})
    assert response.status_code == 200
    body = response.json()
    assert body[0]["type"] == "issue" and body[0]["title"] == "Backlog item number 42"
    assert set(body[0]) == {"type", "key", "title", "url"}


def test_it_answers_an_empty_query_with_pages_and_recent_issues(client: Client, org: Any) -> None:
    make_issue(org, title="Recent one")
    body = client.get("/palette/search", {"q": "", "org": "acme"}).json()
    assert "Dashboard" in titles(body, "page")
    assert "Recent one" in titles(body, "issue")


def test_it_requires_a_login_unless_trusted(client: Client, org: Any, settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = False
    response = client.get("/palette/search", {"q": "x", "org": "acme"})
    assert response.status_code == 401
    user = make_user()
    client.force_login(user)
    assert client.get("/palette/search", {"q": "x", "org": "acme"}).status_code == 404  # not a member
    membership_set(actor=Actor.system(), org=org, user=user, role="viewer")
    assert client.get("/palette/search", {"q": "x", "org": "acme"}).status_code == 200


# -- actions ---------------------------------------------------------------------------------


def post_action(client: Client, **payload: Any) -> Any:
    return client.post("/palette/action", data=json.dumps(payload), content_type="application/json")


def test_it_moves_the_issue_through_the_lifecycle(client: Client, org: Any) -> None:
    agent = make_agent(org, slug="builder", name="Builder")
    issue = make_issue(org, title="Do it", assignee=agent)
    response = post_action(client, org="acme", issue=issue.key, action="status", value="in_progress")
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True
    issue.refresh_from_db()
    assert issue.status == Status.IN_PROGRESS


def test_it_refuses_an_illegal_move_with_409_and_the_reason(client: Client, org: Any) -> None:
    issue = make_issue(org, title="Not started")
    response = post_action(client, org="acme", issue=issue.key, action="status", value="done")
    assert response.status_code == 409
    body = response.json()
    assert body["ok"] is False and body["code"] == "illegal_transition"
    assert "cannot move from todo to done" in body["message"]
    assert Issue.objects.get(pk=issue.pk).status == Status.TODO


def test_it_assigns_and_sets_priority(client: Client, org: Any) -> None:
    make_agent(org, slug="builder", name="Builder")
    issue = make_issue(org, title="Assign me")
    assert post_action(client, org="acme", issue=issue.key, action="assign", value="builder").json()["ok"]
    assert post_action(client, org="acme", issue=issue.key, action="priority", value=4).json()["ok"]
    issue.refresh_from_db()
    assert issue.assignee is not None and issue.assignee.slug == "builder"
    assert issue.priority == 4
    assert post_action(client, org="acme", issue=issue.key, action="assign", value="").json()["ok"]
    issue.refresh_from_db()
    assert issue.assignee is None


def test_it_pauses_and_resumes_the_scheduler_with_the_shared_wording(client: Client, org: Any) -> None:
    paused = post_action(client, org="acme", action="pause_scheduler").json()
    assert paused == {"ok": True, "message": "Scheduler paused: no new runs start (running ones finish)."}
    assert scheduler_paused()
    resumed = post_action(client, org="acme", action="resume_scheduler").json()
    assert resumed == {"ok": True, "message": "Scheduler resumed."}
    assert not scheduler_paused()


def test_it_rejects_bad_input_and_unknown_things(client: Client, org: Any) -> None:
    issue = make_issue(org, title="Target")
    assert post_action(client, org="acme", issue=issue.key, action="explode").status_code == 400
    assert post_action(client, org="acme", issue=issue.key, action="priority", value=9).status_code == 400
    assert post_action(client, org="acme", issue=issue.key, action="assign", value="ghost").status_code == 404
    assert post_action(client, org="acme", issue="ACME-999", action="priority", value=1).status_code == 404
    bad = client.post("/palette/action", data="{not json", content_type="application/json")
    assert bad.status_code == 400
    issue.refresh_from_db()
    assert issue.priority == 0


def test_it_cannot_touch_another_orgs_issue(client: Client, org: Any) -> None:
    other = make_org(slug="other", issue_prefix="OTH")
    theirs = make_issue(other, title="Theirs")
    response = post_action(client, org="acme", issue=theirs.key, action="priority", value=4)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.priority == 0


def test_it_needs_the_csrf_token(org: Any) -> None:
    issue = make_issue(org, title="Guarded")
    strict = Client(enforce_csrf_checks=True)
    payload = json.dumps({"org": "acme", "issue": issue.key, "action": "priority", "value": 3})
    assert strict.post("/palette/action", data=payload, content_type="application/json").status_code == 403
    # Private helpers of Django's CSRF middleware (not in the stubs): a token the middleware accepts.
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret  # type: ignore[attr-defined]

    secret = _get_new_csrf_string()
    strict.cookies["csrftoken"] = secret
    ok = strict.post(
        "/palette/action", data=payload, content_type="application/json", HTTP_X_CSRFTOKEN=_mask_cipher_secret(secret)
    )
    assert ok.status_code == 200, ok.content
    issue.refresh_from_db()
    assert issue.priority == 3


def test_it_cancels_the_latest_run_of_the_issue(client: Client, org: Any) -> None:
    agent = make_agent(org, slug="runner-agent")
    issue = make_issue(org, title="Runs", assignee=agent)
    old = make_run(agent, issue=issue, status="failed")
    latest = make_run(agent, issue=issue, status="running")
    response = post_action(client, org="acme", issue=issue.key, action="cancel_run")
    assert response.status_code == 200, response.content
    assert response.json()["message"] == f"Run #{latest.pk} is being stopped."
    assert Run.objects.get(pk=latest.pk).cancel_requested
    assert not Run.objects.get(pk=old.pk).cancel_requested
    Run.objects.filter(pk=latest.pk).update(status="completed")
    none_left = post_action(client, org="acme", issue=issue.key, action="cancel_run")
    assert none_left.status_code == 404 and "queued or running" in none_left.json()["error"]

"""Markdown preview and the "This wakes @x" notes of the issue editors (web/editing.py, issue 12)."""

from __future__ import annotations

from typing import Any

from issues.models import Status
from tests.factories import make_agent, make_issue, make_org


def notes(client: Any, issue: Any, **params: str) -> str:
    return client.get("/mentions", {"issue": issue.key, **params}, HTTP_HX_REQUEST="true").content.decode()


def test_it_previews_markdown_with_the_servers_renderer(client: Any, org: Any) -> None:
    body = client.post("/markdown/preview", {"description": "# Title\n\n- [ ] task\n\n<script>x</script>"}).content
    html = body.decode()
    assert "<h1" in html and "Title" in html and "<script>" not in html


def test_it_says_whom_a_comment_wakes(client: Any, org: Any) -> None:
    make_agent(org, slug="designer", name="Designer")
    make_agent(org, slug="ghost", name="Ghost", runner="command", model="no-such-cli-xyz")
    issue = make_issue(org, title="Mention")
    html = notes(client, issue, body="@designer and @ghost and @nobody, mail a@designer")
    assert 'data-mention="designer" data-outcome="wakes"' in html and "This wakes @designer" in html
    assert 'data-mention="ghost" data-outcome="needs_setup"' in html and "needs setup" in html
    assert 'data-mention="nobody" data-outcome="unknown"' in html
    assert html.count("data-mention=") == 3  # an e-mail address is not a mention (the server's rule)


def test_it_says_a_description_or_a_closed_issue_wakes_no_one(client: Any, org: Any) -> None:
    make_agent(org, slug="designer", name="Designer")
    issue = make_issue(org, title="Mention")
    assert 'data-outcome="silent"' in notes(client, issue, description="@designer")
    issue.status = Status.DONE
    issue.save(update_fields=["status"])
    assert 'data-outcome="silent"' in notes(client, issue, body="@designer")


def test_it_hides_another_orgs_issue_from_the_mention_notes(client: Any, org: Any) -> None:
    foreign = make_issue(make_org(issue_prefix="OTHER"), title="Secret")
    assert client.get("/mentions", {"issue": foreign.key, "body": "@x"}).status_code == 404

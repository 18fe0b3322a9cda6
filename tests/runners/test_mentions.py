"""runners.mentions: the one rule for whom an @mention wakes (the dispatcher and the editor's notes)."""

from __future__ import annotations

from typing import Any

from runners.mentions import mention_outlook, mentioned_agents, mentioned_slugs
from tests.factories import make_agent, make_org


def test_it_reads_mentions_as_the_dispatcher_does() -> None:
    assert mentioned_slugs("@qa and @dev, again @qa; mail@dev.com @@x") == ["qa", "dev"]


def test_it_finds_only_the_orgs_agents(org: Any) -> None:
    mine = make_agent(org, slug="designer")
    make_agent(make_org(slug="beta", issue_prefix="BETA"), slug="qa")
    assert mentioned_agents(org_id=org.pk, body="@designer @qa") == [(mine.pk, "designer")]


def test_it_says_what_each_mention_would_do(org: Any) -> None:
    make_agent(org, slug="designer")
    make_agent(org, slug="ghost", runner="command", model="no-such-cli-xyz")
    notes = mention_outlook(org_id=org.pk, body="@designer @ghost @nobody", in_comment=True, issue_open=True)
    assert [(n.slug, n.outcome) for n in notes] == [
        ("designer", "wakes"),
        ("ghost", "needs_setup"),
        ("nobody", "unknown"),
    ]
    quiet = mention_outlook(org_id=org.pk, body="@designer", in_comment=False, issue_open=True)
    assert [n.outcome for n in quiet] == ["silent"]

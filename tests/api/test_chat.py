"""Channels over the API: named channels, direct threads, messages with a cursor, unread and mark read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.models import Agent
from chat.models import Recipient
from orgs.models import Event, Org

Call = Callable[..., Any]


def test_it_creates_a_channel_and_posts_and_pages_its_messages(
    call: Call, board_key: str, agent_key: Callable[[Agent], str], engineer: Agent
) -> None:
    made = call("POST", "channels", board_key, {"name": "#Eng", "topic": "engineering"})
    assert made.status_code == 201 and made.json()["name"] == "eng"
    dup = call("POST", "channels", board_key, {"name": "eng"})
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate"
    key = agent_key(engineer)
    for i in range(3):
        posted = call("POST", "channels/eng/messages", key, {"body": f"message {i}"})
        assert posted.status_code == 201 and posted.json()["author_agent"] == "engineer"
    first = call("GET", "channels/eng/messages?limit=2", key).json()
    assert [m["body"] for m in first["results"]] == ["message 2", "message 1"]
    rest = call("GET", f"channels/eng/messages?limit=2&cursor={first['next_cursor']}", key).json()
    assert [m["body"] for m in rest["results"]] == ["message 0"] and rest["next_cursor"] is None
    assert [c["name"] for c in call("GET", "channels", key).json()] == ["eng"]
    bad = call("POST", "channels", board_key, {"name": "no spaces"})
    assert bad.status_code == 400 and bad.json()["field"] == "name"


def test_it_addresses_a_mention_puts_it_in_the_unread_inbox_and_marks_it_read(
    call: Call, board_key: str, agent_key: Callable[[Agent], str], engineer: Agent, qa: Agent
) -> None:
    call("POST", "channels", board_key, {"name": "release"})
    posted = call("POST", "channels/release/messages", agent_key(engineer), {"body": "@qa can you test v2? cc @nobody"})
    message_id = posted.json()["id"]
    event = Event.objects.filter(type="channel_message").latest("id")
    assert event.data["recipient_ids"] == [qa.pk] and event.data["actor_agent_id"] == engineer.pk
    qa_key = agent_key(qa)
    unread = call("GET", "messages/unread", qa_key).json()
    assert [(m["id"], m["channel"]) for m in unread] == [(message_id, "release")]
    assert call("GET", "messages/unread", agent_key(engineer)).json() == []  # one's own message is no news
    assert call("GET", "channels", qa_key).json()[0]["unread"] == 1
    marked = call("POST", "channels/release/read", qa_key, {"up_to": message_id})
    assert marked.json() == {"marked": 1}
    assert call("GET", "messages/unread", qa_key).json() == []


def test_it_keeps_a_direct_thread_between_its_two_agents(
    call: Call, board_key: str, agent_key: Callable[[Agent], str], engineer: Agent, qa: Agent, designer: Agent
) -> None:
    opened = call("POST", "channels/direct", agent_key(engineer), {"agent": "qa"})
    assert opened.status_code == 200
    name = opened.json()["name"]
    assert name == "dm-engineer--qa" and opened.json()["members"] == ["engineer", "qa"]
    again = call("POST", "channels/direct", agent_key(qa), {"agent": "engineer"})
    assert again.json()["name"] == name  # the same thread from either side
    call("POST", f"channels/{name}/messages", agent_key(engineer), {"body": "a word in private"})
    assert Recipient.objects.filter(agent=qa).count() == 1  # the other side is addressed without a mention
    # A third agent neither sees nor writes it; the board reads it.
    designer_key = agent_key(designer)
    assert call("GET", f"channels/{name}/messages", designer_key).status_code == 404
    assert call("POST", f"channels/{name}/messages", designer_key, {"body": "hi"}).status_code == 404
    assert name not in [c["name"] for c in call("GET", "channels", designer_key).json()]
    assert len(call("GET", f"channels/{name}/messages", board_key).json()["results"]) == 1
    assert call("POST", "channels/direct", board_key, {"agent": "qa"}).status_code == 403


def test_it_shows_another_orgs_agent_nothing_of_the_channels(
    call: Call, board_key: str, agent_key: Callable[[Agent], str], engineer: Agent, outsider: Agent, other_org: Org
) -> None:
    call("POST", "channels", board_key, {"name": "eng"})
    call("POST", "channels/eng/messages", agent_key(engineer), {"body": "@outsider internal only"})
    key = agent_key(outsider)
    assert call("GET", "channels", key).json() == []
    assert call("GET", "channels/eng/messages", key).status_code == 404
    assert call("POST", "channels/eng/messages", key, {"body": "let me in"}).status_code == 404
    assert call("GET", "messages/unread", key).json() == []  # a mention of another org's slug addresses no one
    assert call("POST", "channels/direct", key, {"agent": "engineer"}).status_code == 400

"""The Channels page: list, read, post (htmx or not), create; live through channel_message events."""

from __future__ import annotations

from typing import Any

from chat.models import Message, Recipient
from chat.services import channel_create, direct_open, message_post
from orgs.actors import Actor
from tests.factories import make_agent, make_org

HUMAN = Actor.human(label="ann")


def test_it_creates_a_channel_and_posts_in_it_from_the_page(client: Any, org: Any) -> None:
    dev = make_agent(org, slug="dev")
    response = client.post("/channels/new", {"name": "eng"})
    assert response["Location"] == "/channels/eng/"
    part = client.post(
        "/channels/eng/post", {"body": "@dev **ship** it"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chat-messages"
    ).content.decode()
    assert part.startswith('<div id="chat-messages"') and "<strong>ship</strong>" in part
    assert "mesa:channel_message[detail.channel=='eng'] from:body" in part  # live: re-read on a new message
    assert Recipient.objects.get().agent == dev
    page = client.get("/channels/").content.decode()
    assert "#eng" in page and "<strong>ship</strong>" in page
    empty = client.post("/channels/eng/post", {"body": "  "}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 400 and Message.objects.count() == 1


def test_it_shows_the_board_the_direct_threads_and_no_other_orgs_channel(client: Any, org: Any) -> None:
    a, b = make_agent(org, slug="a"), make_agent(org, slug="b")
    thread = direct_open(actor=Actor.for_agent(a), org=org, agent=b)
    message_post(actor=Actor.for_agent(a), channel=thread, body="between us")
    assert "between us" in client.get(f"/channels/{thread.name}/").content.decode()
    other = make_org(slug="other-org")
    channel_create(actor=HUMAN, org=other, name="secret")
    assert client.get("/channels/secret/").status_code == 404
    assert "#secret" not in client.get("/channels/").content.decode()

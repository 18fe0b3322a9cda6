"""Channel writes: names, direct threads, who may post, what a message addresses."""

from __future__ import annotations

from typing import Any

import pytest

from chat.models import Recipient
from chat.services import channel_create, direct_open, message_post
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from tests.factories import make_agent, make_org

HUMAN = Actor.human(label="ann")


@pytest.mark.parametrize("name", ["", "#", "Has Space", "dm-sneaky", "x" * 61, "é"])
def test_it_refuses_a_bad_channel_name(org: Any, name: str) -> None:
    with pytest.raises(InvalidInput):
        channel_create(actor=HUMAN, org=org, name=name)


def test_it_refuses_a_taken_name_and_another_orgs_agent(org: Any) -> None:
    channel_create(actor=HUMAN, org=org, name="#Release")
    with pytest.raises(Conflict):
        channel_create(actor=HUMAN, org=org, name="release")
    stranger = make_agent(make_org(slug="elsewhere"), slug="stranger")
    with pytest.raises(Forbidden):
        channel_create(actor=Actor.for_agent(stranger), org=org, name="mine")


def test_it_lets_only_the_two_agents_and_the_board_write_a_direct_thread(org: Any) -> None:
    a, b, c = make_agent(org, slug="a"), make_agent(org, slug="b"), make_agent(org, slug="c")
    thread = direct_open(actor=Actor.for_agent(a), org=org, agent=b)
    assert direct_open(actor=Actor.for_agent(b), org=org, agent=a).pk == thread.pk
    with pytest.raises(Forbidden):
        message_post(actor=Actor.for_agent(c), channel=thread, body="let me in")
    message_post(actor=HUMAN, channel=thread, body="the board may")
    # A human's message in a direct thread addresses both agents; an agent's only the other one.
    assert sorted(Recipient.objects.values_list("agent__slug", flat=True)) == ["a", "b"]
    message_post(actor=Actor.for_agent(a), channel=thread, body="hi b")
    assert Recipient.objects.filter(agent=b).count() == 2 and Recipient.objects.filter(agent=a).count() == 1
    with pytest.raises(InvalidInput):
        direct_open(actor=Actor.for_agent(a), org=org, agent=a)

from __future__ import annotations

from typing import Any

import pytest

from chat.conversations import chat_post, conversation_open
from chat.models import ChatMessage
from orgs.actors import Actor
from orgs.errors import Forbidden, InvalidInput
from orgs.models import Event
from tests.factories import make_agent, make_issue, make_org

HUMAN = Actor.human(label="alice")


@pytest.mark.django_db
def test_it_keeps_one_conversation_per_agent_and_issue(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    issue = make_issue(org)
    general = conversation_open(actor=HUMAN, agent=agent)
    assert conversation_open(actor=HUMAN, agent=agent) == general
    about = conversation_open(actor=HUMAN, agent=agent, issue=issue)
    assert about != general and about.issue == issue


@pytest.mark.django_db
def test_it_publishes_a_chat_event_for_a_human_message(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    message = chat_post(actor=HUMAN, conversation=conversation_open(actor=HUMAN, agent=agent), body=" Hi ")
    assert message.body == "Hi" and message.role == "human" and message.author_label == "alice"
    event = Event.objects.filter(type="chat_message").get()
    assert event.data["agent_id"] == agent.pk and event.data["role"] == "human"


@pytest.mark.django_db
def test_it_refuses_agents_empty_messages_and_other_orgs_issues(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    conversation = conversation_open(actor=HUMAN, agent=agent)
    with pytest.raises(Forbidden):
        chat_post(actor=Actor.for_agent(agent), conversation=conversation, body="I am a human, honest")
    with pytest.raises(InvalidInput):
        chat_post(actor=HUMAN, conversation=conversation, body="   ")
    with pytest.raises(InvalidInput):
        conversation_open(actor=HUMAN, agent=agent, issue=make_issue(make_org()))
    assert not ChatMessage.objects.exists()

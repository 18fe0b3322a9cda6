"""Chat writes: open a conversation, post a human message (which wakes the agent), record the agent's reply.

A human message publishes ``chat_message``; the scheduler's dispatch turns it into a ``chat`` run of the
agent whose prompt carries the conversation so far, and the run's final message comes back as the reply
(``chat_reply``). Runs are budgeted like any other (the dispatch checks the agent's budget first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from agents.models import Agent
from chat.models import ChatMessage, Conversation, Role
from orgs.actors import Actor
from orgs.errors import Forbidden, InvalidInput
from orgs.events import EventType, event_publish
from orgs.services import activity_record

if TYPE_CHECKING:  # annotations only: chat sits beside issues in the domain layer, never importing it
    from issues.models import Issue

MAX_MESSAGE = 20_000


def _event(message: ChatMessage) -> dict[str, object]:
    conversation = message.conversation
    return {
        "id": message.pk,
        "conversation_id": conversation.pk,
        "agent_id": conversation.agent_id,
        "issue_id": conversation.issue_id,
        "role": message.role,
        "body": message.body[:500],
    }


@transaction.atomic
def conversation_open(*, actor: Actor, agent: Agent, issue: Issue | None = None) -> Conversation:
    """The conversation with ``agent`` (about ``issue``), created on first use. Humans (board) only."""
    if not actor.board or actor.agent is not None:
        raise Forbidden("Only people chat with agents.")
    if issue is not None and issue.org_id != agent.org_id:
        raise InvalidInput("The issue belongs to another org.", field="issue")
    found = Conversation.objects.filter(agent=agent, issue=issue).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Conversation.objects.create(org_id=agent.org_id, agent=agent, issue=issue)
    except IntegrityError:
        return Conversation.objects.get(agent=agent, issue=issue)


@transaction.atomic
def chat_post(*, actor: Actor, conversation: Conversation, body: str) -> ChatMessage:
    """A human's message: stored, then the agent is woken with the conversation so far."""
    if not actor.board or actor.agent is not None:
        raise Forbidden("Only people post human messages.")
    body = (body or "").strip()
    if not body:
        raise InvalidInput("Write a message first.", field="body")
    if len(body) > MAX_MESSAGE:
        raise InvalidInput(f"Messages are at most {MAX_MESSAGE} characters.", field="body")
    message = ChatMessage.objects.create(
        conversation=conversation, role=Role.HUMAN, author_label=str(actor)[:100], body=body
    )
    activity_record(
        org=conversation.org, actor=actor, verb="chatted with", obj=conversation.agent, details={"message": message.pk}
    )
    event_publish(org=conversation.org, type=EventType.CHAT_MESSAGE, data=_event(message))
    return message


@transaction.atomic
def chat_reply(*, conversation: Conversation, body: str, run_id: int | None, role: str = Role.AGENT) -> ChatMessage:
    """The agent's answer (its run's final message), or a system note when the run could not answer."""
    message = ChatMessage.objects.create(
        conversation=conversation,
        role=role,
        author_label=conversation.agent.slug if role == Role.AGENT else "mesa",
        body=(body or "").strip()[:MAX_MESSAGE] or "(no answer)",
        run_id=run_id,
    )
    event_publish(org=conversation.org, type=EventType.CHAT_MESSAGE, data=_event(message))
    return message


def transcript(conversation: Conversation, *, limit: int = 40, clip: int = 4000) -> list[str]:
    """The conversation so far for a prompt, oldest first, each message clipped."""
    rows = list(conversation.messages.order_by("-id")[:limit])[::-1]
    return [f"{m.role.upper()} ({m.author_label}): {m.body[:clip]}" for m in rows]

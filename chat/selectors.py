"""Permission-scoped reads of channels and messages.

Everyone of an org (its agents, the board) reads its named channels. A direct thread is read by its
two agents and the board. Nothing of another org is ever found.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from agents.models import Agent
from chat.models import Channel, ChannelKind, Message, Recipient
from orgs.actors import Actor
from orgs.compiled import compiled_models
from orgs.errors import NotFound
from orgs.models import Org


def channels_for(*, actor: Actor, org: Org) -> QuerySet[Channel]:
    if not actor.belongs_to(org):
        return Channel.objects.none()
    rows = Channel.objects.filter(org=org)
    if actor.agent is not None and not actor.board:
        rows = rows.filter(Q(kind=ChannelKind.NAMED) | Q(members=actor.agent)).distinct()
    return rows.order_by("kind", "name")


def channel_get_for(*, actor: Actor, org: Org, name: str) -> Channel:
    """The channel ``name`` (``eng`` or ``#eng``) that ``actor`` may read, else NotFound."""
    name = (name or "").strip().lstrip("#").lower()
    channel = channels_for(actor=actor, org=org).filter(name=name).first() if name else None
    if channel is None:
        raise NotFound(f"There is no channel #{name}.")
    return channel


def messages_of(channel: Channel) -> QuerySet[Message]:
    return Message.objects.filter(channel=channel).select_related("author_agent", "channel")


def unread_for(agent: Agent) -> QuerySet[Recipient]:
    """Messages addressed to ``agent`` that it has not marked read, oldest first."""
    return (
        Recipient.objects.filter(agent=agent, read_at__isnull=True)
        .select_related("message__channel", "message__author_agent")
        .order_by("message_id")
    )


UNDELIVERED_MAX = 20


def _undelivered_query(agent_id: int) -> QuerySet[Recipient]:
    return unread_for(Agent(pk=agent_id)).filter(delivered_at__isnull=True)[:UNDELIVERED_MAX]


_undelivered = compiled_models(_undelivered_query)  # every run's prompt asks (orgs/compiled.py)


def undelivered_for(agent: Agent) -> list[Recipient]:
    """Unread messages addressed to ``agent`` that no prompt has carried yet, oldest first (at most UNDELIVERED_MAX)."""
    found: list[Recipient] = _undelivered(agent.pk)
    return found

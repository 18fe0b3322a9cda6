"""Writes for channels and messages: create a channel, open a direct thread, post, mark read / delivered."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import Agent, AgentStatus
from chat.models import Channel, ChannelKind, Message, Recipient
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput, NotFound
from orgs.events import EventType, event_publish
from orgs.models import Org
from orgs.services import activity_record, require_member

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
# The same shape as a comment's @mention (runners.mentions.MENTION_RE): one rule for who is addressed.
MENTION_RE = re.compile(r"(?<![\w@.])@([a-z0-9][a-z0-9-]{0,59})")
MAX_BODY = 20_000
EXCERPT = 300


def channel_name(raw: str) -> str:
    """``#Eng`` → ``eng``; InvalidInput unless it is 1-60 of a-z, 0-9, '-' and '_'."""
    name = (raw or "").strip().lstrip("#").lower()
    if not NAME_RE.match(name) or name.startswith("dm-"):
        raise InvalidInput(
            "A channel name is 1-60 lowercase letters, digits, '-' or '_' (like eng or release), not starting dm-.",
            field="name",
        )
    return name


def direct_name(a: Agent, b: Agent) -> str:
    first, second = sorted((a.slug, b.slug))
    return f"dm-{first}--{second}"


@transaction.atomic
def channel_create(*, actor: Actor, org: Org, name: str, topic: str = "") -> Channel:
    require_member(actor, org.pk)
    name = channel_name(name)
    topic = " ".join((topic or "").split())[:300]
    if Channel.objects.filter(org=org, name=name).exists():
        raise Conflict(f"The channel #{name} already exists.", code="duplicate", name=name)
    try:
        with transaction.atomic():
            channel = Channel.objects.create(org=org, name=name, topic=topic, **actor.author_fields("created_by"))
    except IntegrityError:  # a concurrent create of the same name
        raise Conflict(f"The channel #{name} already exists.", code="duplicate", name=name) from None
    activity_record(org=org, actor=actor, verb="channel.created", obj=channel, object_repr=channel.label)
    return channel


@transaction.atomic
def direct_open(*, actor: Actor, org: Org, agent: Agent) -> Channel:
    """The direct thread between the acting agent and ``agent`` (created on first use)."""
    require_member(actor, org.pk)
    me = actor.agent
    if me is None:
        raise Forbidden("Direct threads are between two agents: post in a named channel instead.")
    if agent.org_id != org.pk or agent.status == AgentStatus.TERMINATED:
        raise NotFound(f"There is no agent {agent.slug!r}.")
    if agent.pk == me.pk:
        raise InvalidInput("A direct thread needs another agent.", field="agent")
    name = direct_name(me, agent)
    channel = Channel.objects.filter(org=org, name=name).first()
    if channel is None:
        try:
            with transaction.atomic():
                channel = Channel.objects.create(
                    org=org, name=name, kind=ChannelKind.DIRECT, **actor.author_fields("created_by")
                )
        except IntegrityError:  # opened by the other side at the same moment
            channel = Channel.objects.get(org=org, name=name)
        channel.members.add(me, agent)
    return channel


def _addressed(channel: Channel, body: str, author: Agent | None) -> list[Agent]:
    """Who a message is for: the @mentioned agents of the org, and the other side of a direct thread."""
    slugs = set(MENTION_RE.findall(body))
    agents = Agent.objects.filter(org_id=channel.org_id).exclude(status=AgentStatus.TERMINATED)
    found = {a.pk: a for a in agents.filter(slug__in=slugs)} if slugs else {}
    if channel.kind == ChannelKind.DIRECT:
        found.update({a.pk: a for a in channel.members.all()})
    if author is not None:
        found.pop(author.pk, None)  # one's own message is never news to oneself
    return list(found.values())


def _member(channel: Channel, actor: Actor) -> bool:
    return actor.agent is not None and channel.members.filter(pk=actor.agent.pk).exists()


@transaction.atomic
def message_post(*, actor: Actor, channel: Channel, body: str) -> Message:
    require_member(actor, channel.org_id)
    if channel.kind == ChannelKind.DIRECT and not actor.board and not _member(channel, actor):
        raise Forbidden("Only the two agents of a direct thread write in it.")
    body = (body or "").strip()
    if not body:
        raise InvalidInput("A message needs a body.", field="body")
    if len(body) > MAX_BODY:
        raise InvalidInput(f"A message is at most {MAX_BODY} characters.", field="body")
    message = Message.objects.create(org_id=channel.org_id, channel=channel, body=body, **actor.author_fields("author"))
    recipients = _addressed(channel, body, actor.agent)
    Recipient.objects.bulk_create([Recipient(message=message, agent=agent) for agent in recipients])
    event_publish(
        org=channel.org,
        type=EventType.CHANNEL_MESSAGE,
        data={
            "id": message.pk,
            "channel": channel.name,
            "channel_id": channel.pk,
            "kind": channel.kind,
            "author": message.author_label,
            "body": body[:EXCERPT],
            "recipient_ids": [agent.pk for agent in recipients],
            "actor_kind": actor.kind,
            "actor_agent_id": actor.agent.pk if actor.agent is not None else None,
        },
    )
    return message


@transaction.atomic
def messages_mark_read(*, actor: Actor, channel: Channel, up_to: int | None = None) -> int:
    """Mark the acting agent's unread messages of ``channel`` (up to message ``up_to``) read; how many."""
    if actor.agent is None:
        return 0  # humans have no per-person unread state
    rows = Recipient.objects.filter(agent=actor.agent, message__channel=channel, read_at__isnull=True)
    if up_to is not None:
        rows = rows.filter(message_id__lte=up_to)
    return rows.update(read_at=timezone.now())


@transaction.atomic
def messages_mark_delivered(*, agent: Agent, message_ids: list[int]) -> int:
    """The messages were put into one of ``agent``'s prompts: the next prompt does not repeat them."""
    if not message_ids:
        return 0
    rows = Recipient.objects.filter(agent=agent, message_id__in=message_ids, delivered_at__isnull=True)
    return rows.update(delivered_at=timezone.now())

"""Channels: named ones per org (#eng) and direct threads between two agents; messages, unread, mark read."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from agents.selectors import agent_ref
from api.base import MesaAPIView
from api.errors import error_responses
from api.openapi import BODY_ERRORS, text_parameter
from api.pagination import CURSOR_PARAMETERS, CursorPage, cursor_envelope
from api.serializers.chat import (
    ChannelCreateInput,
    ChannelOutput,
    DirectOpenInput,
    MarkReadInput,
    MarkReadOutput,
    MessageOutput,
    MessagePostInput,
    UnreadOutput,
)
from chat.models import Channel
from chat.selectors import channel_get_for, channels_for, messages_of, unread_for
from chat.services import channel_create, direct_open, message_post, messages_mark_read
from orgs.actors import Actor

TAGS = ["channels"]
NAME = text_parameter("name", "The channel name: eng for #eng, or a direct thread's dm-... name.")


def _annotated(actor: Actor, channels: Any) -> list[Channel]:
    """Channels with their members' slugs and, for an agent, its unread count."""
    if actor.agent is not None:
        channels = channels.annotate(
            unread=Count(
                "messages__recipients",
                filter=Q(messages__recipients__agent=actor.agent, messages__recipients__read_at__isnull=True),
            )
        )
    rows = list(channels.prefetch_related("members"))
    for channel in rows:
        channel.member_slugs = [m.slug for m in channel.members.all()]
    return rows


class ChannelCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="channels_list",
        tags=TAGS,
        summary="The channels you can read: the org's named channels and your direct threads",
        responses={200: ChannelOutput(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        actor = self.actor(request)
        rows = _annotated(actor, channels_for(actor=actor, org=self.org(request)))
        return Response(ChannelOutput(rows, many=True).data)

    @extend_schema(
        operation_id="channels_create",
        tags=TAGS,
        summary="Create a named channel (#eng); a taken name is a 409 duplicate",
        request=ChannelCreateInput,
        responses={201: ChannelOutput, **error_responses(*BODY_ERRORS, 409)},
    )
    def post(self, request: Request) -> Response:
        data = self.input(request, ChannelCreateInput)
        channel = channel_create(actor=self.actor(request), org=self.org(request), **data)
        return Response(ChannelOutput(channel).data, status=status.HTTP_201_CREATED)


class DirectOpenApi(MesaAPIView):
    @extend_schema(
        operation_id="channels_direct",
        tags=TAGS,
        summary="Open (or find) your direct thread with another agent (agent keys only)",
        request=DirectOpenInput,
        responses={200: ChannelOutput, **error_responses(*BODY_ERRORS, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        data = self.input(request, DirectOpenInput)
        org = self.org(request)
        other = agent_ref(org, data["agent"], "agent")
        assert other is not None  # agent_ref raises on an unknown slug
        channel = direct_open(actor=self.actor(request), org=org, agent=other)
        return Response(ChannelOutput(_annotated(self.actor(request), Channel.objects.filter(pk=channel.pk))[0]).data)


class MessageCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="channel_messages",
        tags=TAGS,
        summary="A channel's messages, newest first (cursor paged)",
        parameters=[NAME, *CURSOR_PARAMETERS],
        responses={200: cursor_envelope(MessageOutput), **error_responses(400, 404)},
    )
    def get(self, request: Request, name: str) -> Response:
        channel = channel_get_for(actor=self.actor(request), org=self.org(request), name=name)
        page = CursorPage.from_request(request)
        rows = page.slice(messages_of(channel))
        return page.response(request, list(MessageOutput(rows, many=True).data))

    @extend_schema(
        operation_id="channel_post",
        tags=TAGS,
        summary="Post a message; @<agent-slug> addresses an agent and wakes it",
        parameters=[NAME],
        request=MessagePostInput,
        responses={201: MessageOutput, **error_responses(*BODY_ERRORS, 403, 404)},
    )
    def post(self, request: Request, name: str) -> Response:
        actor = self.actor(request)
        channel = channel_get_for(actor=actor, org=self.org(request), name=name)
        data = self.input(request, MessagePostInput)
        message = message_post(actor=actor, channel=channel, body=data["body"])
        return Response(MessageOutput(message).data, status=status.HTTP_201_CREATED)


class MarkReadApi(MesaAPIView):
    @extend_schema(
        operation_id="channel_read",
        tags=TAGS,
        summary="Mark the messages addressed to you in a channel read (up to a message id)",
        parameters=[NAME],
        request=MarkReadInput,
        responses={200: MarkReadOutput, **error_responses(*BODY_ERRORS, 404)},
    )
    def post(self, request: Request, name: str) -> Response:
        actor = self.actor(request)
        channel = channel_get_for(actor=actor, org=self.org(request), name=name)
        data = self.input(request, MarkReadInput)
        marked = messages_mark_read(actor=actor, channel=channel, up_to=data.get("up_to"))
        return Response({"marked": marked})


class UnreadApi(MesaAPIView):
    @extend_schema(
        operation_id="messages_unread",
        tags=TAGS,
        summary="Your inbox of messages: unread messages addressed to you (mentions, direct threads), oldest first",
        description="Agent keys only have one; for a board key the list is empty.",
        responses={200: UnreadOutput(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        agent = self.actor(request).agent
        rows = [r.message for r in unread_for(agent)[:200]] if agent is not None else []
        return Response(UnreadOutput(rows, many=True).data)

"""HTML views for channels: the channel list, one channel's messages (live), post, create."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from chat.models import Channel
from chat.selectors import channel_get_for, channels_for, messages_of
from chat.services import channel_create, message_post
from orgs.errors import MesaError
from web.access import HtmxHttpRequest, fail, human_actor, require_org

SHOWN = 100  # the latest messages a page shows (the API pages further back)


def _messages(channel: Channel) -> list[Any]:
    rows = list(messages_of(channel).order_by("-id")[:SHOWN])
    rows.reverse()
    return rows


@require_GET
def channel_list(request: HtmxHttpRequest, name: str = "") -> HttpResponse:
    org = require_org(request)
    actor = human_actor(request)
    channels = list(channels_for(actor=actor, org=org))
    current = channel_get_for(actor=actor, org=org, name=name) if name else (channels[0] if channels else None)
    ctx: dict[str, Any] = {"channels": channels, "channel": current, "messages": _messages(current) if current else []}
    if request.htmx and request.htmx.target == "chat-messages":
        return render(request, "chat/partials/messages.html", ctx)
    return render(request, "chat/channels.html", ctx)


@require_POST
def create(request: HtmxHttpRequest) -> HttpResponse:
    org = require_org(request)
    try:
        channel = channel_create(
            actor=human_actor(request), org=org, name=request.POST.get("name", ""), topic=request.POST.get("topic", "")
        )
    except MesaError as exc:
        return fail(request, exc, back=reverse("chat:list"))
    return HttpResponseRedirect(reverse("chat:channel", args=[channel.name]))


@require_POST
def post(request: HtmxHttpRequest, name: str) -> HttpResponse:
    org = require_org(request)
    actor = human_actor(request)
    channel = channel_get_for(actor=actor, org=org, name=name)
    error: MesaError | None = None
    try:
        message_post(actor=actor, channel=channel, body=request.POST.get("body", ""))
    except MesaError as exc:
        error = exc
    if request.htmx:
        ctx = {"channel": channel, "messages": _messages(channel), "error": error}
        return render(request, "chat/partials/messages.html", ctx, status=error.status if error else 200)
    if error is not None:
        return fail(request, error, back=reverse("chat:channel", args=[channel.name]))
    return HttpResponseRedirect(reverse("chat:channel", args=[channel.name]))

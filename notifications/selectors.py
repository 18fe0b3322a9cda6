"""Reads for notification settings, scoped to one org."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from notifications.models import Delivery, DeliveryAttempt, NotificationChannel
from orgs.errors import NotFound
from orgs.models import Org


def channel_get_for(org: Org, pk: int | str) -> NotificationChannel:
    """The org's channel ``pk``; NotFound for a channel of another org or none at all."""
    channel = NotificationChannel.objects.select_related("org").filter(org=org, pk=pk).first()
    if channel is None:
        raise NotFound("There is no such notification channel in this org.")
    return channel


def channels_for(org: Org) -> QuerySet[NotificationChannel]:
    return NotificationChannel.objects.filter(org=org).order_by("id")


def delivery_log(org: Org, *, limit: int = 50) -> list[Delivery]:
    """The newest deliveries of the org's channels, each with every attempt (two queries)."""
    return list(
        Delivery.objects.filter(channel__org=org)
        .select_related("channel")
        .prefetch_related(Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number")))
        .order_by("-id")[:limit]
    )

"""Reads for notification settings, scoped to one org."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, QuerySet

from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, NotificationChannel
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


def next_attempt_at() -> datetime | None:
    """When the earliest delivery still to be attempted (pending, or failed with retries left) is due, of any org."""
    return (
        Delivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED], next_attempt_at__isnull=False
        )
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )

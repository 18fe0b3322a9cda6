"""Writes for notification channels and the delivery queue.

``notify`` only inserts rows (cheap, inside or after any transaction); the
delivery worker (``deliver_due``) does the network calls, so a request or a run
never waits for Telegram, Discord, Slack or a webhook.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import (
    APPROVAL_RESOLVED_KIND,
    TEST_KIND,
    ChannelKind,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventKind,
    NotificationChannel,
)
from notifications.transports import SendResult, transport_for
from orgs.actors import Actor
from orgs.errors import InvalidInput
from orgs.events import EventType, event_publish
from orgs.models import Org
from orgs.redaction import Redactor, redact
from orgs.secrets import mask
from orgs.services import activity_record

log = logging.getLogger(__name__)

# How long a claimed delivery is hidden from other workers while it is being sent.
CLAIM_LEASE = timedelta(seconds=120)


# -- channels ---------------------------------------------------------------------


def secret_hint(secret: str) -> str:
    """The masked form shown for a stored secret (``••••1234``; a URL keeps its host)."""
    if not secret:
        return ""
    if secret.startswith(("http://", "https://")):
        scheme, _, rest = secret.partition("://")
        return f"{scheme}://{rest.split('/')[0]}/{mask(secret)}"
    return mask(secret)


def _clean_events(events: Iterable[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(events or []))
    unknown = [e for e in chosen if e not in EventKind.values]
    if unknown:
        raise InvalidInput(f"Unknown event kind(s): {', '.join(unknown)}.", field="events")
    return chosen


def _clean_name(name: str, kind: str) -> str:
    name = " ".join((name or "").split()) or ChannelKind(kind).label
    if len(name) > 100:
        raise InvalidInput("The name is at most 100 characters.", field="name")
    return name


@transaction.atomic
def channel_create(
    *,
    actor: Actor,
    org: Org,
    kind: str,
    name: str = "",
    enabled: bool = True,
    events: Iterable[str] | None = None,
    config: dict[str, Any] | None = None,
    secret: str = "",
) -> NotificationChannel:
    """Add a channel. The secret is required (a bot token, a webhook URL, an HMAC key)."""
    if kind not in ChannelKind.values:
        raise InvalidInput(f"Unknown channel kind {kind!r}.", field="kind")
    transport = transport_for(kind)
    clean_config = transport.clean_config(config or {})
    if not (secret or "").strip():
        raise InvalidInput(f"{transport.secret_label} is required.", field="secret")
    clean_secret = transport.clean_secret(secret)
    if kind == ChannelKind.TELEGRAM and NotificationChannel.objects.filter(org=org, kind=kind).exists():
        raise InvalidInput("This org already has a Telegram bot; edit it instead.", field="kind")
    channel = NotificationChannel.objects.create(
        org=org,
        kind=kind,
        name=_clean_name(name, kind),
        enabled=enabled,
        events=_clean_events(EventKind.values if events is None else events),
        config=clean_config,
        secret=clean_secret,
        secret_hint=secret_hint(clean_secret),
    )
    activity_record(org=org, actor=actor, verb="added notification channel", obj=channel, publish=False)
    return channel


@transaction.atomic
def channel_update(
    *,
    actor: Actor,
    channel: NotificationChannel,
    name: str | None = None,
    enabled: bool | None = None,
    events: Iterable[str] | None = None,
    config: dict[str, Any] | None = None,
    secret: str | None = None,
) -> NotificationChannel:
    """Change a channel. An empty or None ``secret`` keeps the stored one (it is never sent back to forms)."""
    transport = transport_for(channel.kind)
    fields: list[str] = []
    if name is not None:
        channel.name = _clean_name(name, channel.kind)
        fields.append("name")
    if enabled is not None:
        channel.enabled = enabled
        fields.append("enabled")
    if events is not None:
        channel.events = _clean_events(events)
        fields.append("events")
    if config is not None:
        channel.config = transport.clean_config(config)
        fields.append("config")
    if secret is not None and secret.strip():
        channel.secret = transport.clean_secret(secret)
        channel.secret_hint = secret_hint(channel.secret)
        fields += ["secret", "secret_hint"]
    if {"secret", "config"} & set(fields):
        # New credentials: the old error (and the Telegram bot identity) no longer apply.
        channel.last_error = ""
        channel.last_error_at = None
        channel.bot_username = ""
        fields += ["last_error", "last_error_at", "bot_username"]
    if fields:
        channel.save(update_fields=[*fields, "updated_at"])
        activity_record(
            org=channel.org,
            actor=actor,
            verb="changed notification channel",
            obj=channel,
            details={"fields": sorted(set(fields) - {"secret"})},
            publish=False,
        )
    return channel


@transaction.atomic
def channel_delete(*, actor: Actor, channel: NotificationChannel) -> None:
    org = channel.org
    activity_record(org=org, actor=actor, verb="removed notification channel", obj=channel, publish=False)
    channel.delete()


def channel_redactor(channel: NotificationChannel) -> Redactor:
    """Hides the channel's secrets (token, webhook URL and its path, their encoded forms) in error texts."""
    url = (channel.config or {}).get("url", "") if isinstance(channel.config, dict) else ""
    return Redactor([channel.secret, str(url)])


def channel_error_set(channel: NotificationChannel, error: str, *, now: datetime | None = None) -> None:
    """Remember the last transport failure on the channel (shown in Settings), secrets redacted."""
    now = now or timezone.now()
    error = redact(channel_redactor(channel).text(error))
    NotificationChannel.objects.filter(pk=channel.pk).update(last_error=error[:2000], last_error_at=now)
    channel.last_error, channel.last_error_at = error[:2000], now


def channel_ok(channel: NotificationChannel, *, now: datetime | None = None) -> None:
    now = now or timezone.now()
    NotificationChannel.objects.filter(pk=channel.pk).update(last_error="", last_error_at=None, last_ok_at=now)
    channel.last_error, channel.last_error_at, channel.last_ok_at = "", None, now


# -- the queue ------------------------------------------------------------------------


def _publish(delivery: Delivery) -> None:
    """Tell live views (the delivery log in Settings) that a delivery was queued or attempted."""
    event_publish(
        org=delivery.channel.org,
        type=EventType.NOTIFICATION_DELIVERY,
        data={"id": delivery.pk, "channel_id": delivery.channel_id, "kind": delivery.kind, "status": delivery.status},
    )


def enqueue(
    *,
    channel: NotificationChannel,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str = "",
    now: datetime | None = None,
) -> Delivery | None:
    """Queue one delivery; returns None when ``dedupe_key`` was queued for this channel before."""
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                channel=channel,
                kind=kind,
                payload=payload,
                dedupe_key=dedupe_key[:100],
                next_attempt_at=now or timezone.now(),
            )
            _publish(delivery)
            return delivery
    except IntegrityError:
        if dedupe_key and Delivery.objects.filter(channel=channel, dedupe_key=dedupe_key[:100]).exists():
            return None
        raise


def notify(*, org: Org, kind: str, payload: dict[str, Any], dedupe_key: str = "") -> list[Delivery]:
    """Queue ``kind`` for every enabled channel of ``org`` subscribed to it. Never sends anything itself."""
    if kind not in EventKind.values:
        raise InvalidInput(f"Unknown notification kind {kind!r}.", field="kind")
    queued = []
    for channel in NotificationChannel.objects.filter(org=org, enabled=True).order_by("id"):
        if channel.wants(kind):
            delivery = enqueue(channel=channel, kind=kind, payload=payload, dedupe_key=dedupe_key)
            if delivery is not None:
                queued.append(delivery)
    return queued


def send_test(*, actor: Actor, channel: NotificationChannel) -> Delivery:
    """Queue a test message for a channel (the worker sends it, like any other delivery)."""
    who = str(actor) or "someone"
    delivery = enqueue(
        channel=channel,
        kind=TEST_KIND,
        payload={"text": f"Test notification from Mesa ({channel.org.name}), by {who}."},
    )
    assert delivery is not None  # no dedupe key: always created
    return delivery


def backoff(attempts: int) -> timedelta:
    """Delay before attempt ``attempts + 1``: base · 2^(attempts-1), capped."""
    base = float(getattr(settings, "MESA_NOTIFY_BACKOFF_S", 30))
    cap = float(getattr(settings, "MESA_NOTIFY_BACKOFF_MAX_S", 3600))
    return timedelta(seconds=min(cap, base * (2 ** max(0, attempts - 1))))


def _claim(delivery_id: int, now: datetime) -> Delivery | None:
    """Take a due delivery for this worker (conditional update), hiding it from others for the lease."""
    row = Delivery.objects.filter(pk=delivery_id).values("status", "next_attempt_at").first()
    if row is None:
        return None
    claimed = Delivery.objects.filter(
        pk=delivery_id,
        status=row["status"],
        next_attempt_at=row["next_attempt_at"],
        next_attempt_at__lte=now,
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED],
    ).update(next_attempt_at=now + CLAIM_LEASE)
    if not claimed:
        return None
    return Delivery.objects.select_related("channel", "channel__org").get(pk=delivery_id)


def _send(delivery: Delivery) -> SendResult:
    channel = delivery.channel
    if not channel.enabled:
        return SendResult(ok=False, error="The channel is disabled.", retryable=False)
    try:
        return transport_for(channel.kind).send(channel=channel, delivery=delivery)
    except Exception as exc:  # a transport bug must not stop the worker or lose the delivery
        log.exception("transport %s crashed on delivery %s", channel.kind, delivery.pk)
        return SendResult(ok=False, error=f"Internal error: {type(exc).__name__}: {exc}"[:500], retryable=True)


def deliver_one(delivery: Delivery, *, now: datetime) -> Delivery:
    """Make one attempt at a claimed delivery and record it."""
    result = _send(delivery)
    # A server may echo the webhook path or the token back: the delivery log never shows them.
    result = replace(result, error=redact(channel_redactor(delivery.channel).text(result.error)))
    number = delivery.attempts + 1
    max_attempts = int(getattr(settings, "MESA_NOTIFY_MAX_ATTEMPTS", 6))
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=number,
        ok=result.ok,
        response_code=result.status_code,
        error=result.error[:2000],
        retry_after_s=result.retry_after,
        at=now,
    )
    delivery.attempts = number
    delivery.response_code = result.status_code
    if result.ok:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.next_attempt_at = None
        delivery.last_error = ""
        channel_ok(delivery.channel, now=now)
    else:
        delivery.last_error = result.error[:2000]
        if result.retryable and number < max_attempts:
            delivery.status = DeliveryStatus.FAILED
            wait = timedelta(seconds=result.retry_after) if result.retry_after is not None else backoff(number)
            delivery.next_attempt_at = now + wait
        else:
            delivery.status = DeliveryStatus.DEAD
            delivery.next_attempt_at = None
        # Shown in Settings: what is wrong with the channel (not an edit of a message deleted in Telegram).
        if delivery.channel.enabled and (delivery.kind != APPROVAL_RESOLVED_KIND or result.status_code != 400):
            channel_error_set(delivery.channel, result.error or "Delivery failed.", now=now)
    delivery.save(
        update_fields=[
            "attempts",
            "response_code",
            "status",
            "sent_at",
            "next_attempt_at",
            "last_error",
            "updated_at",
        ]
    )
    _publish(delivery)
    return delivery


def deliver_due(*, now: datetime | None = None, limit: int = 50) -> int:
    """Send every delivery whose time has come (at most ``limit``); returns how many were attempted.

    Safe to run from several processes: each delivery is claimed by a conditional update first.
    """
    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED], next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    attempted = 0
    for delivery_id in due:
        delivery = _claim(delivery_id, now)
        if delivery is None:
            continue
        deliver_one(delivery, now=now)
        attempted += 1
    return attempted


@transaction.atomic
def telegram_configure(
    *,
    actor: Actor,
    org: Org,
    token: str | None,
    chat_id: str,
    allowed_user_ids: Any,
    base_url: str = "",
    enabled: bool = True,
) -> tuple[NotificationChannel, bool]:
    """Create or update the org's Telegram bot settings (what ``telegram-setup`` does). Returns (channel, created)."""
    config = {"chat_id": chat_id, "allowed_user_ids": allowed_user_ids, "base_url": base_url}
    existing = NotificationChannel.objects.select_for_update().filter(org=org, kind=ChannelKind.TELEGRAM).first()
    if existing is None:
        channel = channel_create(
            actor=actor, org=org, kind=ChannelKind.TELEGRAM, name="Telegram", config=config, secret=token or ""
        )
        return channel, True
    channel = channel_update(actor=actor, channel=existing, config=config, secret=token, enabled=enabled)
    return channel, False

"""Notification channels, the delivery queue with its attempt log, and the Telegram bookkeeping."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from orgs.models import Org
from orgs.secrets import EncryptedJSONField, EncryptedTextField


class ChannelKind(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"
    DISCORD = "discord", "Discord webhook"
    SLACK = "slack", "Slack incoming webhook"
    WEBHOOK = "webhook", "Generic webhook (HMAC-signed JSON)"


class EventKind(models.TextChoices):
    """What a channel can subscribe to."""

    APPROVAL_REQUESTED = "approval_requested", "Approval requested"
    ISSUE_BLOCKED = "issue_blocked", "Issue blocked (retry cap)"
    BUDGET_EXCEEDED = "budget_exceeded", "Budget exceeded"
    WORK_BLOCK_READY = "work_block_ready", "Work block ready to ship"
    RUN_FAILED = "run_failed", "Run failed"
    AGENT_ERRORED = "agent_errored", "Agent errored"


# Delivery kinds that are not subscriptions: a test message, and the edit of a
# Telegram approval message after the decision.
TEST_KIND = "test"
APPROVAL_RESOLVED_KIND = "approval_resolved"


class NotificationChannel(models.Model):
    """Where an org's notifications go.

    ``config`` holds what may be shown (chat id, allowed user ids, base URL, a
    webhook URL); ``secret`` holds what must not (bot token, Discord/Slack
    webhook URL, HMAC key) and is only ever displayed as ``secret_hint`` (masked).
    Both are encrypted at rest (orgs.secrets).
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="notification_channels")
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    config = EncryptedJSONField(default=dict, blank=True)
    secret = EncryptedTextField(blank=True, default="")
    secret_hint = models.CharField(max_length=60, blank=True, default="")
    events = models.JSONField(default=list, blank=True)
    # The last transport error (bad token, unreachable URL...) shown in Settings; cleared by a success.
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    # Telegram only: the next getUpdates offset and the bot's @username once known.
    poll_offset = models.BigIntegerField(default=0)
    bot_username = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["org", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ChannelKind.values), name="notif_channel_kind_valid"),
            # One bot per org: the Telegram settings are the org's settings.
            models.UniqueConstraint(fields=["org"], condition=Q(kind="telegram"), name="notif_one_telegram_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    def wants(self, kind: str) -> bool:
        return self.enabled and kind in (self.events or [])


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # the last attempt failed; another is scheduled
    DEAD = "dead"  # given up


class Delivery(models.Model):
    """One notification for one channel, sent by the delivery worker (never inside a request)."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=30)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    response_code = models.IntegerField(null=True, blank=True)
    # Makes enqueueing idempotent (e.g. "event:42"): replaying the event feed never sends twice.
    dedupe_key = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="notif_delivery_status_valid"),
            models.UniqueConstraint(
                fields=["channel", "dedupe_key"], condition=~Q(dedupe_key=""), name="notif_delivery_dedupe"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notif_delivery_due")]

    def __str__(self) -> str:
        return f"delivery {self.pk} {self.kind} → {self.channel_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: the delivery log in Settings lists every one."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    ok = models.BooleanField(default=False)
    response_code = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    retry_after_s = models.FloatField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="notif_attempt_unique")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"


class EventCursor(models.Model):
    """How far a consumer of the ``orgs.Event`` feed has read."""

    name = models.CharField(max_length=50, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}@{self.last_event_id}"


class TelegramMessage(models.Model):
    """A Telegram message showing an approval, so a decision made anywhere can edit it."""

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="telegram_messages")
    approval = models.ForeignKey("approvals.Approval", on_delete=models.CASCADE, related_name="telegram_messages")
    chat_id = models.BigIntegerField()
    message_id = models.BigIntegerField()
    text = models.TextField(blank=True, default="")
    # The approval status the message currently shows ("pending" until edited).
    shown_status = models.CharField(max_length=10, default="pending")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "chat_id", "message_id"], name="notif_tg_message_unique")
        ]

    def __str__(self) -> str:
        return f"tg {self.chat_id}/{self.message_id} approval {self.approval_id}"

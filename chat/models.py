"""Channels of messages: named ones per org (``#eng``) and direct threads between two agents."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from orgs.models import Org


class ChannelKind(models.TextChoices):
    NAMED = "named", "named"
    DIRECT = "direct", "direct"


class Channel(models.Model):
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="channels")
    # "eng" for #eng; a direct thread is "dm-<slug>--<slug>" (slugs sorted), so it has one name too.
    name = models.CharField(max_length=130)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices, default=ChannelKind.NAMED)
    topic = models.CharField(max_length=300, blank=True, default="")
    # A direct thread's two agents (a named channel is open to the whole org: no members).
    members = models.ManyToManyField("agents.Agent", blank=True, related_name="direct_channels")
    created_by_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="chat_unique_channel_name_per_org")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"#{self.name}" if self.kind == ChannelKind.NAMED else self.name


class Message(models.Model):
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    body = models.TextField()
    author_agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["channel", "id"], name="chat_message_channel_id")]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk}"


class Recipient(models.Model):
    """A message addressed to an agent (an @mention, or the other side of a direct thread).

    ``read_at``: the agent marked it read (its inbox of unread). ``delivered_at``: it was put into
    one of the agent's prompts (so the next prompt does not repeat it).
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="recipients")
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "agent"], name="chat_unique_recipient")]
        indexes = [models.Index(fields=["agent", "read_at"], name="chat_recipient_unread")]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.agent_id}"


# Conversations: a human talking with one agent (chat/conversations.py).
class Conversation(models.Model):
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="conversations")
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="conversations")
    # About this issue (its text goes into the agent's prompt); none: a general conversation with the agent.
    issue = models.ForeignKey(
        "issues.Issue", null=True, blank=True, on_delete=models.CASCADE, related_name="conversations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "issue"], name="chat_one_per_agent_issue"),
            models.UniqueConstraint(
                fields=["agent"], condition=Q(issue__isnull=True), name="chat_one_general_per_agent"
            ),
        ]

    def __str__(self) -> str:
        return f"chat with {self.agent_id} on {self.issue_id or '-'}"


class Role(models.TextChoices):
    HUMAN = "human"
    AGENT = "agent"
    SYSTEM = "system"


class ChatMessage(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=8, choices=Role.choices)
    author_label = models.CharField(max_length=100, blank=True, default="")
    body = models.TextField()
    # The run that answered (agent messages); a plain id: runs live in a layer above this app.
    run_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "id"]
        constraints = [models.CheckConstraint(condition=Q(role__in=Role.values), name="chat_message_role_valid")]

    def __str__(self) -> str:
        return f"{self.role}: {self.body[:40]}"

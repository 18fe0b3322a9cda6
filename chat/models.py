"""Conversations between humans and one agent, optionally about one issue."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from orgs.models import Org


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

from __future__ import annotations

from django.db import models
from django.db.models import Q

from orgs.models import Org


class KeyKind(models.TextChoices):
    RUN = "run", "Run key"
    AGENT = "agent", "Agent key"
    BOARD = "board", "Board key"


class ApiKey(models.Model):
    """A bearer key. Only the SHA-256 of the secret is stored, plus a short visible prefix."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="api_keys")
    kind = models.CharField(max_length=6, choices=KeyKind.choices)
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys")
    run = models.ForeignKey("runners.Run", null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=KeyKind.values), name="api_key_kind_valid"),
            # Run and agent keys act as an agent; board keys never do.
            models.CheckConstraint(
                condition=Q(kind="board", agent__isnull=True) | Q(~Q(kind="board"), agent__isnull=False),
                name="api_key_agent_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} key {self.prefix}…"

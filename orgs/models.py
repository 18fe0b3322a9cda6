from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

DEFAULT_FEATURES: dict[str, bool] = {"telegram": False, "discord": False}


class Org(models.Model):
    """An agent organisation. Everything else belongs to exactly one org."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    issue_prefix = models.CharField(max_length=10)
    # Feature flags and integration settings; read at use time, never cached at start-up.
    settings = models.JSONField(default=dict, blank=True)
    # The last issue number handed out; bumped by a conditional UPDATE in issue_create.
    issue_seq = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(issue_prefix__regex=r"^[A-Z][A-Z0-9]{0,9}$"), name="org_issue_prefix_format"
            ),
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="org_one_default"),
        ]

    def __str__(self) -> str:
        return self.name

    def feature(self, name: str) -> bool:
        features: dict[str, Any] = {**DEFAULT_FEATURES, **self.settings.get("features", {})}
        return bool(features.get(name, False))


class ActorKind(models.TextChoices):
    AGENT = "agent"
    HUMAN = "human"
    SYSTEM = "system"


class Activity(models.Model):
    """The audit trail: one row per mutation."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="activities")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=100, blank=True, default="")
    verb = models.CharField(max_length=60)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=60)
    object_repr = models.CharField(max_length=300, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["org", "-id"], name="activity_org_recent"),
            models.Index(fields=["object_type", "object_id"], name="activity_object"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.verb} {self.object_type} {self.object_repr}"


class Event(models.Model):
    """The durable, ordered live-event feed.

    Rows are written inside the transaction that makes the change (so an event
    exists exactly when its change does); listeners are woken after commit. The
    autoincrement id is the SSE ``Last-Event-ID``.
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=60)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["org", "id"], name="event_org_id")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type}"


class OrgRole(models.TextChoices):
    OWNER = "owner"
    MEMBER = "member"
    VIEWER = "viewer"


class Membership(models.Model):
    """A user's place in one org (login mode). The operator (superuser) needs none: they see every org."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=OrgRole.choices, default=OrgRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["org", "user"]
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="membership_one_per_org_user")]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.org}"

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from orgs.models import Org


class PatchStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ROLLED_BACK = "rolled_back"


class ArchetypePatch(models.Model):
    """Proposed replacement text for one archetype file.

    Approving writes ``proposed_text`` to the override directory and keeps the
    text it replaced in ``previous_text`` so the change can be rolled back.
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="archetype_patches")
    archetype = models.CharField(max_length=60)
    proposed_text = models.TextField()
    previous_text = models.TextField(blank=True, default="")
    # Whether an override file existed before approval (rollback restores or deletes it).
    previous_override = models.BooleanField(default=False)
    reason = models.TextField(blank=True, default="")
    status = models.CharField(max_length=12, choices=PatchStatus.choices, default=PatchStatus.PENDING)
    proposed_by_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_by_label = models.CharField(max_length=100, blank=True, default="")
    decided_by_label = models.CharField(max_length=100, blank=True, default="")
    decision_comment = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PatchStatus.values), name="archetype_patch_status_valid")
        ]

    def __str__(self) -> str:
        return f"patch {self.archetype} ({self.status})"

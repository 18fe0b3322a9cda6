from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from orgs.models import Org


class ApprovalKind(models.TextChoices):
    ACTION = "action", "Agent action"
    WORK_BLOCK_ACTIVATE = "work_block_activate", "Activate work block"
    WORK_BLOCK_SHIP = "work_block_ship", "Ship work block"
    BUDGET_RAISE = "budget_raise", "Budget raise"
    ARCHETYPE_PATCH = "archetype_patch", "Archetype patch"
    AGENT_ADD = "agent_add", "Add agent"
    BOARD_REVIEW = "board_review", "Board review"
    SKILL_PROPOSE = "skill_propose", "Adopt a skill"
    POLICY_PROPOSE = "policy_propose", "Adopt a board policy"
    ISSUE_PROPOSE = "issue_propose", "File an improvement issue"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Approval(models.Model):
    """A question for a human (or the addressed reviewer): pending → approved / rejected."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="approvals")
    kind = models.CharField(max_length=24, choices=ApprovalKind.choices, default=ApprovalKind.ACTION)
    status = models.CharField(max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    title = models.CharField(max_length=300)
    reason = models.TextField(blank=True, default="")
    # What it is about (any may be empty).
    issue = models.ForeignKey("issues.Issue", null=True, blank=True, on_delete=models.CASCADE, related_name="approvals")
    work_block = models.ForeignKey(
        "blocks.WorkBlock", null=True, blank=True, on_delete=models.CASCADE, related_name="approvals"
    )
    archetype_patch = models.ForeignKey(
        "archetypes.ArchetypePatch", null=True, blank=True, on_delete=models.CASCADE, related_name="approvals"
    )
    subject_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.CASCADE, related_name="subject_approvals"
    )
    payload = models.JSONField(default=dict, blank=True)
    # The agent this approval is addressed to, if not the humans (e.g. a reviewer).
    reviewer = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="approvals_to_review"
    )
    requested_by_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="approvals_requested"
    )
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_label = models.CharField(max_length=100, blank=True, default="")
    decided_by_agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_label = models.CharField(max_length=100, blank=True, default="")
    decision_comment = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ApprovalStatus.values), name="approval_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=ApprovalKind.values), name="approval_kind_valid"),
        ]
        indexes = [models.Index(fields=["org", "status"], name="approval_org_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == ApprovalStatus.PENDING

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from orgs.models import Org


class ApexStatus(models.TextChoices):
    ACTIVE = "active"
    ARCHIVED = "archived"


class ApexBlock(models.Model):
    """A strategic goal that work blocks align to."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="apex_blocks")
    title = models.CharField(max_length=200)
    goal = models.TextField(blank=True, default="")
    status = models.CharField(max_length=10, choices=ApexStatus.choices, default=ApexStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(status__in=ApexStatus.values), name="apex_status_valid")]

    def __str__(self) -> str:
        return self.title


class WorkBlockStatus(models.TextChoices):
    PROPOSED = "proposed"
    ACTIVE = "active"
    READY = "ready"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class WorkBlock(models.Model):
    """A sprint: a bounded batch of issues with a goal and a north-star metric."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="work_blocks")
    title = models.CharField(max_length=200)
    goal = models.TextField(blank=True, default="")
    acceptance_criteria = models.TextField(blank=True, default="")
    north_star_metric = models.CharField(max_length=200, blank=True, default="")
    north_star_target = models.CharField(max_length=200, blank=True, default="")
    apex_block = models.ForeignKey(
        ApexBlock, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_blocks"
    )
    status = models.CharField(max_length=10, choices=WorkBlockStatus.choices, default=WorkBlockStatus.PROPOSED)
    activated_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The cycle: the days the block is planned to run (both inclusive); the burndown spans them.
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=WorkBlockStatus.values), name="work_block_status_valid"),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(end_date__isnull=True) | Q(end_date__gt=F("start_date")),
                name="work_block_ends_after_start",
            ),
            # The database itself guarantees at most one active block per org.
            models.UniqueConstraint(fields=["org"], condition=Q(status="active"), name="work_block_one_active_per_org"),
        ]
        indexes = [models.Index(fields=["org", "status"], name="work_block_org_status")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_closed(self) -> bool:
        """Shipped or cancelled: it takes no more issues."""
        return self.status in {WorkBlockStatus.SHIPPED, WorkBlockStatus.CANCELLED}

"""Work block and apex block shapes, and the work block stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from rest_framework import serializers

from api.fields import StrictCharField, StrictInput, StrictIntegerField
from api.openapi import MAX_ID
from api.pagination import envelope
from blocks.models import ApexBlock, ApexStatus, WorkBlock, WorkBlockStatus
from blocks.services import Alignment
from issues.models import Issue, Status
from runners.models import Run

# --- output ---------------------------------------------------------------------------------------------------


class AlignmentOutput(serializers.Serializer):
    aligned = serializers.IntegerField(help_text="Active/ready work blocks tied to an active apex block.")
    total = serializers.IntegerField(help_text="Active/ready work blocks.")
    percent = serializers.IntegerField(allow_null=True, help_text="aligned/total in whole percent; null when total=0.")


def alignment_out(alignment: Alignment) -> dict[str, Any]:
    return {"aligned": alignment.aligned, "total": alignment.total, "percent": alignment.percent}


class WorkBlockOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    goal = serializers.CharField()
    acceptance_criteria = serializers.CharField()
    north_star_metric = serializers.CharField()
    north_star_target = serializers.CharField()
    status = serializers.ChoiceField(choices=WorkBlockStatus.choices)
    apex_block = serializers.IntegerField(source="apex_block_id", allow_null=True, help_text="Apex block id or null.")
    apex_block_title = serializers.CharField(source="apex_block.title", allow_null=True)
    start_date = serializers.DateField(allow_null=True, help_text="First day of the cycle, or null.")
    end_date = serializers.DateField(allow_null=True, help_text="Last day of the cycle (after start_date), or null.")
    activated_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WorkBlockListItemOutput(WorkBlockOutput):
    issue_count = serializers.IntegerField(help_text="Issues in the block.")


WorkBlockPage = type(
    "WorkBlockPage",
    (envelope(WorkBlockListItemOutput),),
    {"alignment": AlignmentOutput(help_text="The org's alignment score."), "__module__": __name__},
)


class BlockIssueOutput(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    priority = serializers.IntegerField()
    assignee = serializers.CharField(source="assignee.slug", allow_null=True, help_text="Agent slug or null.")


class WorkBlockStatsOutput(serializers.Serializer):
    cost_usd = serializers.FloatField(help_text="Sum of the costs of the runs on the block's issues.")
    runs = serializers.IntegerField(help_text="Runs on the block's issues.")
    tokens = serializers.IntegerField(help_text="Tokens (in + out + cache) of those runs.")
    planned = serializers.IntegerField(help_text="Issues in the block.")
    completed = serializers.IntegerField(help_text="Issues done.")
    cancelled = serializers.IntegerField(help_text="Issues cancelled or won't do.")
    open = serializers.IntegerField(help_text="Issues not yet in a terminal status.")
    cycle_time_s = serializers.FloatField(
        allow_null=True,
        help_text="completed_at − activated_at in seconds (now − activated_at while open); null before activation.",
    )


class WorkBlockDetailOutput(WorkBlockOutput):
    issues = BlockIssueOutput(many=True, source="issue_rows")
    stats = WorkBlockStatsOutput()


@dataclass(frozen=True)
class WorkBlockStats:
    cost_usd: float
    runs: int
    tokens: int
    planned: int
    completed: int
    cancelled: int
    open: int
    cycle_time_s: float | None


def work_block_stats(block: WorkBlock, issues: list[Issue]) -> WorkBlockStats:
    """Stats of ``block`` from its (already loaded) issues plus one aggregate query over their runs."""
    agg = Run.objects.filter(issue__work_block=block, issue__archived_at__isnull=True).aggregate(
        runs=Count("id"),
        cost=Sum("cost_usd"),
        tin=Sum("tokens_in"),
        tout=Sum("tokens_out"),
        tcr=Sum("tokens_cache_read"),
        tcw=Sum("tokens_cache_write"),
    )
    completed = sum(1 for i in issues if i.status == Status.DONE)
    cancelled = sum(1 for i in issues if i.status in (Status.CANCELLED, Status.WONT_DO))
    cycle: timedelta | None = None
    if block.activated_at is not None:
        cycle = (block.completed_at or timezone.now()) - block.activated_at
    return WorkBlockStats(
        cost_usd=float(agg["cost"] or Decimal(0)),
        runs=agg["runs"] or 0,
        tokens=sum(agg[k] or 0 for k in ("tin", "tout", "tcr", "tcw")),
        planned=len(issues),
        completed=completed,
        cancelled=cancelled,
        open=len(issues) - completed - cancelled,
        cycle_time_s=round(cycle.total_seconds(), 3) if cycle is not None else None,
    )


def work_block_detail(block: WorkBlock) -> dict[str, Any]:
    """The block with its issues and stats, in three queries (block is already loaded); archived issues left out."""
    issues = list(
        block.issues.filter(archived_at__isnull=True)
        .select_related("assignee")
        .order_by("-priority", "created_at", "id")
    )
    block.issue_rows = issues  # type: ignore[attr-defined]
    block.stats = work_block_stats(block, issues)  # type: ignore[attr-defined]
    return dict(WorkBlockDetailOutput(block).data)


def work_blocks_listed(queryset: QuerySet[WorkBlock]) -> QuerySet[WorkBlock]:
    return (
        queryset.select_related("apex_block")
        .annotate(issue_count=Count("issues", filter=Q(issues__archived_at__isnull=True)))
        .order_by("-created_at", "-id")
    )


class ApexBlockOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    goal = serializers.CharField()
    status = serializers.ChoiceField(choices=ApexStatus.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ApexBlockListItemOutput(ApexBlockOutput):
    work_block_count = serializers.IntegerField(help_text="Work blocks aligned to this goal.")


ApexBlockPage = type(
    "ApexBlockPage",
    (envelope(ApexBlockListItemOutput),),
    {"alignment": AlignmentOutput(help_text="The org's alignment score."), "__module__": __name__},
)


class ApexBlockDetailOutput(ApexBlockOutput):
    work_blocks = WorkBlockListItemOutput(many=True, source="work_block_rows")


def apex_block_detail(apex: ApexBlock) -> dict[str, Any]:
    apex.work_block_rows = list(work_blocks_listed(apex.work_blocks.all()))  # type: ignore[attr-defined]
    return dict(ApexBlockDetailOutput(apex).data)


# --- input ----------------------------------------------------------------------------------------------------


class WorkBlockCreateInput(StrictInput):
    title = StrictCharField(max_length=200)
    goal = StrictCharField(required=False, allow_blank=True, max_length=20_000, default="")
    acceptance_criteria = StrictCharField(required=False, allow_blank=True, max_length=20_000, default="")
    north_star_metric = StrictCharField(required=False, allow_blank=True, max_length=200, default="")
    north_star_target = StrictCharField(required=False, allow_blank=True, max_length=200, default="")
    apex_block = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="Apex block id to align to."
    )
    start_date = serializers.DateField(
        required=False, allow_null=True, input_formats=["iso-8601"], help_text="First day of the cycle (YYYY-MM-DD)."
    )
    end_date = serializers.DateField(
        required=False,
        allow_null=True,
        input_formats=["iso-8601"],
        help_text="Last day of the cycle (YYYY-MM-DD); must be after start_date.",
    )


class WorkBlockUpdateInput(StrictInput):
    title = StrictCharField(required=False, max_length=200)
    goal = StrictCharField(required=False, allow_blank=True, max_length=20_000)
    acceptance_criteria = StrictCharField(required=False, allow_blank=True, max_length=20_000)
    north_star_metric = StrictCharField(required=False, allow_blank=True, max_length=200)
    north_star_target = StrictCharField(required=False, allow_blank=True, max_length=200)
    apex_block = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="Apex block id; null unlinks."
    )
    start_date = serializers.DateField(
        required=False, allow_null=True, input_formats=["iso-8601"], help_text="First day of the cycle; null clears."
    )
    end_date = serializers.DateField(
        required=False,
        allow_null=True,
        input_formats=["iso-8601"],
        help_text="Last day of the cycle, after start_date; null clears.",
    )
    status = serializers.ChoiceField(
        choices=WorkBlockStatus.choices,
        required=False,
        help_text="proposed → active → ready → shipped (ready → active, and cancelled from any open status).",
    )


class BlockIssuesInput(StrictInput):
    key = StrictCharField(required=False, max_length=24, help_text="One issue key.")
    keys = serializers.ListField(
        child=StrictCharField(max_length=24), required=False, max_length=500, help_text="Several issue keys."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        keys = [*([attrs["key"]] if attrs.get("key") else []), *attrs.get("keys", [])]
        if not keys:
            raise serializers.ValidationError({"keys": "Give an issue key as key or a list as keys."})
        attrs["all_keys"] = list(dict.fromkeys(k.strip().upper() for k in keys))
        return attrs


class ApexBlockCreateInput(StrictInput):
    title = StrictCharField(max_length=200)
    goal = StrictCharField(required=False, allow_blank=True, max_length=20_000, default="")


class ApexBlockUpdateInput(StrictInput):
    title = StrictCharField(required=False, max_length=200)
    goal = StrictCharField(required=False, allow_blank=True, max_length=20_000)
    status = serializers.ChoiceField(choices=ApexStatus.choices, required=False)


class ApprovalRequestedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()


class WorkBlockApprovalRequestedOutput(serializers.Serializer):
    """An agent asked to activate or ship: the humans decide, the agent is woken with the answer."""

    approval_requested = ApprovalRequestedOutput()
    work_block = WorkBlockDetailOutput()

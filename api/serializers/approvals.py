"""Approval shapes."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.fields import StrictCharField, StrictInput
from approvals.models import ApprovalKind, ApprovalStatus


class ApprovalOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ApprovalKind.choices)
    status = serializers.ChoiceField(choices=ApprovalStatus.choices)
    title = serializers.CharField()
    reason = serializers.CharField()
    issue = serializers.CharField(source="issue.key", allow_null=True, help_text="Issue key or null.")
    work_block = serializers.IntegerField(source="work_block_id", allow_null=True)
    archetype_patch = serializers.IntegerField(source="archetype_patch_id", allow_null=True)
    subject_agent = serializers.CharField(source="subject_agent.slug", allow_null=True)
    reviewer = serializers.CharField(
        source="reviewer.slug", allow_null=True, help_text="The agent asked to decide; null = the humans (board)."
    )
    payload = serializers.DictField(help_text="Whatever the requester attached (a plan, a command, a diff...).")
    requested_by = serializers.CharField(source="requested_by_label", help_text="Agent slug or board label.")
    requested_by_agent = serializers.CharField(source="requested_by_agent.slug", allow_null=True)
    decided_by = serializers.CharField(source="decided_by_label")
    decision_comment = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class ApprovalCreateInput(StrictInput):
    title = StrictCharField(max_length=300, help_text="What you ask permission for, in one line.")
    reason = StrictCharField(required=False, allow_blank=True, max_length=20_000, default="")
    issue = StrictCharField(required=False, allow_null=True, allow_blank=True, help_text="Issue key it is about.")
    reviewer = StrictCharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Agent slug to decide it; omitted = the humans (board) or the CEO.",
    )
    payload = serializers.DictField(required=False, default=dict, help_text="Any JSON object worth seeing.")


class ApprovalResolveInput(StrictInput):
    decision = serializers.ChoiceField(choices=[ApprovalStatus.APPROVED, ApprovalStatus.REJECTED])
    comment = StrictCharField(required=False, allow_blank=True, max_length=20_000, default="")


def approval_out(approval: Any) -> dict[str, Any]:
    return dict(ApprovalOutput(approval).data)

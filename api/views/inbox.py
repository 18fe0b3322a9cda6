"""The caller's open work in one call."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from agents.selectors import is_ceo
from api.base import MesaAPIView
from api.errors import error_responses
from api.serializers.issues import IssueOutput, iso, issue_rows
from approvals.models import Approval, ApprovalKind, ApprovalStatus
from approvals.registry import HUMAN_ONLY_KINDS
from issues.models import OPEN_STATUSES, Issue
from issues.selectors import board_review_q, review_q


class InboxIssueOutput(IssueOutput):
    reason = serializers.ChoiceField(
        choices=["assigned", "review", "board_review"],
        help_text="assigned = yours to do; review = waiting for your review; board_review = needs the humans.",
    )


class InboxApprovalOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ApprovalKind.choices)
    title = serializers.CharField()
    reason = serializers.CharField()
    issue = serializers.CharField(allow_null=True, help_text="Key of the issue it is about, if any.")
    reviewer = serializers.CharField(allow_null=True, help_text="Addressed agent's slug; null = the humans.")
    requested_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class InboxOutput(serializers.Serializer):
    issues = InboxIssueOutput(many=True, help_text="By priority (urgent first), then oldest first.")
    approvals = InboxApprovalOutput(many=True, help_text="Pending approvals addressed to you, oldest first.")


class InboxApi(MesaAPIView):
    @extend_schema(
        operation_id="inbox",
        tags=["inbox"],
        summary="Your open work: assigned issues, reviews waiting for you, approvals addressed to you",
        description=(
            "An issue waits for your review when it is in_review and its assignee's review_agent is you, or (no "
            "review_agent) its assignee reports to you, or (no manager, or unassigned) you are the CEO. Nobody "
            "reviews their own work. Board keys see what needs humans: board_review issues, the CEO's own work in "
            "review, and pending approvals addressed to no agent."
        ),
        responses={200: InboxOutput, **error_responses()},
    )
    def get(self, request: Request) -> Response:
        org, agent = self.org(request), self.actor(request).agent
        issues = Issue.objects.filter(org=org, archived_at__isnull=True)
        approvals = Approval.objects.filter(org=org, status=ApprovalStatus.PENDING)
        if agent is None:
            issues = issues.filter(board_review_q())
            approvals = approvals.filter(reviewer__isnull=True)
        else:
            issues = issues.filter(Q(assignee=agent, status__in=OPEN_STATUSES) | review_q(agent))
            mine = Q(reviewer=agent)
            if is_ceo(agent):
                # Unaddressed requests the CEO may decide; the human gates stay with the humans.
                mine |= Q(reviewer__isnull=True) & ~Q(kind__in=HUMAN_ONLY_KINDS)
            approvals = approvals.filter(mine)
        rows = issue_rows(issues.order_by("-priority", "created_at", "id"))
        for row in rows:
            if agent is None:
                row["reason"] = "board_review"
            else:
                row["reason"] = "assigned" if row["assignee"] == agent.slug else "review"
        pending: list[dict[str, Any]] = [
            {
                "id": a["id"],
                "kind": a["kind"],
                "title": a["title"],
                "reason": a["reason"],
                "issue": a["issue__key"],
                "reviewer": a["reviewer__slug"],
                "requested_by": a["requested_by_label"] or "board",
                "created_at": iso(a["created_at"]),
            }
            for a in approvals.order_by("created_at", "id").values(
                "id", "kind", "title", "reason", "issue__key", "reviewer__slug", "requested_by_label", "created_at"
            )
        ]
        return Response({"issues": rows, "approvals": pending})

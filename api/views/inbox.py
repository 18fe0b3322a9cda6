"""The caller's open work in one call."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import AgentStatus
from agents.selectors import is_ceo
from api.base import MesaAPIView
from api.errors import error_responses
from api.serializers.issues import ISSUE_ROW_FIELDS, IssueOutput, iso, issue_rows_of
from approvals.models import Approval, ApprovalKind, ApprovalStatus
from approvals.registry import HUMAN_ONLY_KINDS
from issues.models import OPEN_STATUSES, Issue
from issues.selectors import board_review_q, review_q_for
from orgs.compiled import compiled


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
        if agent is None:
            shape: tuple[Any, ...] = ("board",)
            args: tuple[Any, ...] = (org.pk,)
        else:
            shape = ("agent", is_ceo(agent), agent.status == AgentStatus.TERMINATED)
            args = (org.pk, agent.pk)
        rows = issue_rows_of(_inbox_issues(shape, *args))
        for row in rows:
            if agent is None:
                row["reason"] = "board_review"
            else:
                row["reason"] = "assigned" if row["assignee"] == agent.slug else "review"
        pending: list[dict[str, Any]] = [
            {
                "id": a[0],
                "kind": a[1],
                "title": a[2],
                "reason": a[3],
                "issue": a[4],
                "reviewer": a[5],
                "requested_by": a[6] or "board",
                "created_at": iso(a[7]),
            }
            for a in _inbox_approvals(shape, *args)
        ]
        return Response({"issues": rows, "approvals": pending})


# Agents read their inbox at the start of every run: both queries are compiled once per kind of caller
# (orgs/compiled.py). ``shape`` is ("board",) or ("agent", is the CEO, is terminated).
def _inbox_issues_query(shape: tuple[Any, ...], org_id: int, agent_id: int = 0) -> QuerySet[Issue, Any]:
    issues = Issue.objects.filter(org_id=org_id, archived_at__isnull=True)
    if shape[0] == "board":
        issues = issues.filter(board_review_q())
    else:
        mine = Q(assignee_id=agent_id, status__in=OPEN_STATUSES)
        issues = issues.filter(mine | review_q_for(agent_id, ceo=shape[1], terminated=shape[2]))
    return issues.order_by("-priority", "created_at", "id").values_list(*ISSUE_ROW_FIELDS)


def _inbox_approvals_query(shape: tuple[Any, ...], org_id: int, agent_id: int = 0) -> QuerySet[Approval, Any]:
    approvals = Approval.objects.filter(org_id=org_id, status=ApprovalStatus.PENDING)
    if shape[0] == "board":
        approvals = approvals.filter(reviewer__isnull=True)
    else:
        mine = Q(reviewer_id=agent_id)
        if shape[1]:
            # Unaddressed requests the CEO may decide; the human gates stay with the humans.
            mine |= Q(reviewer__isnull=True) & ~Q(kind__in=HUMAN_ONLY_KINDS)
        approvals = approvals.filter(mine)
    return approvals.order_by("created_at", "id").values_list(
        "id", "kind", "title", "reason", "issue__key", "reviewer__slug", "requested_by_label", "created_at"
    )


_inbox_issues = compiled(_inbox_issues_query)
_inbox_approvals = compiled(_inbox_approvals_query)

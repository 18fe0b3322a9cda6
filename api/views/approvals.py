"""Approvals: an agent asks a human (or an addressed reviewer) for a decision, then someone decides once."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import MesaAPIView
from api.errors import error_responses
from api.openapi import BODY_ERRORS, id_parameter, status_filter, status_parameter
from api.pagination import PAGE_PARAMETERS, Page, envelope
from api.serializers.approvals import ApprovalCreateInput, ApprovalOutput, ApprovalResolveInput, approval_out
from api.views._lookups import agent_ref, issue_ref
from approvals.models import ApprovalStatus
from approvals.selectors import approval_get_for, approvals_visible_to
from approvals.services import approval_create, approval_resolve

TAGS = ["approvals"]
APPROVAL_ID = id_parameter("approval_id", "approval")


class ApprovalCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="approvals_list",
        tags=TAGS,
        summary="List approvals, newest first",
        description=(
            "An agent sees the approvals it asked for and those addressed to it; the CEO and board keys see all."
        ),
        parameters=[status_parameter(ApprovalStatus.values), *PAGE_PARAMETERS],
        responses={200: envelope(ApprovalOutput), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        page = Page.from_request(request)
        qs = approvals_visible_to(actor=self.actor(request), org=self.org(request))
        statuses = status_filter(request, ApprovalStatus.values)
        if statuses:
            qs = qs.filter(status__in=statuses)
        rows = page.slice(qs)
        return page.response(request, list(ApprovalOutput(rows, many=True).data))

    @extend_schema(
        operation_id="approvals_create",
        tags=TAGS,
        summary="Ask for a decision (e.g. before a destructive step)",
        description=(
            "Addressed to `reviewer` (an agent slug) if given, else to the humans (the board; the CEO may "
            "also decide). Wait for `status` to become approved before acting."
        ),
        request=ApprovalCreateInput,
        responses={201: ApprovalOutput, **error_responses(*BODY_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        org, actor = self.org(request), self.actor(request)
        data = self.input(request, ApprovalCreateInput)
        approval = approval_create(
            actor=actor,
            org=org,
            title=data["title"],
            reason=data["reason"],
            issue=issue_ref(org, data.get("issue"), "issue"),
            reviewer=agent_ref(org, data.get("reviewer"), "reviewer"),
            payload=data["payload"],
        )
        approval = approval_get_for(actor=actor, org=org, approval_id=approval.pk, to_decide=True)
        return Response(approval_out(approval), status=status.HTTP_201_CREATED)


class ApprovalApi(MesaAPIView):
    @extend_schema(
        operation_id="approvals_get",
        tags=TAGS,
        summary="Get an approval",
        parameters=[APPROVAL_ID],
        responses={200: ApprovalOutput, **error_responses(403, 404)},
    )
    def get(self, request: Request, approval_id: str) -> Response:
        approval = approval_get_for(actor=self.actor(request), org=self.org(request), approval_id=approval_id)
        return Response(approval_out(approval))


class ApprovalResolveApi(MesaAPIView):
    @extend_schema(
        operation_id="approvals_resolve",
        tags=TAGS,
        summary="Approve or reject (the addressed reviewer, the CEO or the board; exactly once)",
        description="Deciding twice is a 409 `already_decided`. Archetype patches are decided by humans only.",
        parameters=[APPROVAL_ID],
        request=ApprovalResolveInput,
        responses={200: ApprovalOutput, **error_responses(*BODY_ERRORS, 403, 404, 409)},
    )
    def post(self, request: Request, approval_id: str) -> Response:
        org, actor = self.org(request), self.actor(request)
        approval = approval_get_for(actor=actor, org=org, approval_id=approval_id, to_decide=True)
        data = self.input(request, ApprovalResolveInput)
        approval = approval_resolve(actor=actor, approval=approval, decision=data["decision"], comment=data["comment"])
        approval = approval_get_for(actor=actor, org=org, approval_id=approval.pk, to_decide=True)
        return Response(approval_out(approval))

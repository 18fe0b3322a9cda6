"""Work blocks (sprints) and apex blocks (strategic goals).

Anyone in the org may read them and propose a work block; changing them (fields,
status, which issues are in a block) is for the board and the CEO.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import MesaAPIView
from api.errors import error_responses
from api.openapi import BODY_ERRORS, id_parameter, status_filter, status_parameter, text_parameter
from api.pagination import PAGE_PARAMETERS, Page
from api.serializers.blocks import (
    AlignmentOutput,
    ApexBlockCreateInput,
    ApexBlockDetailOutput,
    ApexBlockListItemOutput,
    ApexBlockPage,
    ApexBlockUpdateInput,
    BlockIssuesInput,
    WorkBlockApprovalRequestedOutput,
    WorkBlockCreateInput,
    WorkBlockDetailOutput,
    WorkBlockListItemOutput,
    WorkBlockPage,
    WorkBlockUpdateInput,
    alignment_out,
    apex_block_detail,
    work_block_detail,
    work_blocks_listed,
)
from blocks.models import ApexBlock, ApexStatus, WorkBlock, WorkBlockStatus
from blocks.selectors import apex_block_get_for, work_block_get_for
from blocks.services import (
    alignment_score,
    apex_block_create,
    apex_block_update,
    gated_approval_kind,
    require_block_editor,
    work_block_create,
    work_block_request_transition,
    work_block_transition,
    work_block_update,
)
from issues.bulk import do_issues_set_work_block
from issues.models import Issue
from issues.services import do_issue_update
from orgs.errors import InvalidInput, NotFound
from orgs.models import Org

TAGS = ["work blocks"]
APEX_TAGS = ["apex blocks"]
_TEXT_FIELDS = ("title", "goal", "acceptance_criteria", "north_star_metric", "north_star_target")
_DATE_FIELDS = ("start_date", "end_date")


def _apex_ref(org: Org, apex_id: int | None) -> ApexBlock | None:
    if apex_id is None:
        return None
    apex = ApexBlock.objects.filter(org=org, pk=apex_id).first()
    if apex is None:
        raise InvalidInput(f"There is no apex block {apex_id} in this org.", field="apex_block")
    return apex


BLOCK_ID = id_parameter("block_id", "work block")
APEX_ID = id_parameter("apex_id", "apex block")


class WorkBlockCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="work_blocks_list",
        tags=TAGS,
        summary="List work blocks (newest first) with the org's alignment score",
        parameters=[status_parameter(WorkBlockStatus.values), *PAGE_PARAMETERS],
        responses={200: WorkBlockPage, **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        org = self.org(request)
        page = Page.from_request(request)
        qs = WorkBlock.objects.filter(org=org)
        statuses = status_filter(request, WorkBlockStatus.values)
        if statuses:
            qs = qs.filter(status__in=statuses)
        rows = page.slice(work_blocks_listed(qs))
        body = page.body(request, list(WorkBlockListItemOutput(rows, many=True).data))
        body["alignment"] = alignment_out(alignment_score(org))
        return Response(body)

    @extend_schema(
        operation_id="work_blocks_create",
        tags=TAGS,
        summary="Propose a work block (it starts as proposed; any agent may propose)",
        request=WorkBlockCreateInput,
        responses={201: WorkBlockDetailOutput, **error_responses(*BODY_ERRORS, 403)},
    )
    def post(self, request: Request) -> Response:
        org, actor = self.org(request), self.actor(request)
        data = self.input(request, WorkBlockCreateInput)
        block = work_block_create(
            actor=actor,
            org=org,
            **{name: data[name] for name in _TEXT_FIELDS},
            apex_block=_apex_ref(org, data.get("apex_block")),
            start_date=data.get("start_date"),
            end_date=data.get("end_date"),
        )
        block = work_block_get_for(actor=actor, org=org, block_id=block.pk)
        return Response(work_block_detail(block), status=status.HTTP_201_CREATED)


class WorkBlockApi(MesaAPIView):
    @extend_schema(
        operation_id="work_blocks_get",
        tags=TAGS,
        summary="Get a work block with its issues and stats",
        parameters=[BLOCK_ID],
        responses={200: WorkBlockDetailOutput, **error_responses(404)},
    )
    def get(self, request: Request, block_id: str) -> Response:
        block = work_block_get_for(actor=self.actor(request), org=self.org(request), block_id=block_id)
        return Response(work_block_detail(block))

    @extend_schema(
        operation_id="work_blocks_update",
        tags=TAGS,
        summary="Update a work block's fields and/or move its status (board or CEO)",
        description=(
            "Fields and status change together or not at all. An illegal move is a 409 `illegal_transition` "
            "listing `allowed`; activating while another block is active is a 409 `active_block_exists`. "
            "Activating or shipping is a human gate: an agent's request answers 202 with the approval it opened."
        ),
        parameters=[BLOCK_ID],
        request=WorkBlockUpdateInput,
        responses={
            200: WorkBlockDetailOutput,
            202: WorkBlockApprovalRequestedOutput,
            **error_responses(*BODY_ERRORS, 403, 404, 409),
        },
    )
    def patch(self, request: Request, block_id: str) -> Response:
        org, actor = self.org(request), self.actor(request)
        block = work_block_get_for(actor=actor, org=org, block_id=block_id)
        data = self.input(request, WorkBlockUpdateInput)
        changes: dict[str, Any] = {name: data[name] for name in (*_TEXT_FIELDS, *_DATE_FIELDS) if name in data}
        if "apex_block" in data:
            changes["apex_block"] = _apex_ref(org, data["apex_block"])
        with transaction.atomic():
            # Always called (even with no field changes): it is where the permission is checked.
            block = work_block_update(actor=actor, block=block, **changes)
            approval = None
            if "status" in data:
                if actor.agent is not None and gated_approval_kind(block.status, data["status"]):
                    approval = work_block_request_transition(actor=actor, block=block, to=data["status"])
                else:
                    block = work_block_transition(actor=actor, block=block, to=data["status"])
        block = work_block_get_for(actor=actor, org=org, block_id=block.pk)
        if approval is not None:
            body = {
                "approval_requested": {"id": approval.pk, "kind": approval.kind, "status": approval.status},
                "work_block": work_block_detail(block),
            }
            return Response(body, status=202)
        return Response(work_block_detail(block))


class WorkBlockIssuesApi(MesaAPIView):
    @extend_schema(
        operation_id="work_blocks_add_issues",
        tags=TAGS,
        summary="Put issues into a work block (board or CEO)",
        description='Body `{"key": "MESA-1"}` or `{"keys": ["MESA-1", "MESA-2"]}`; all or nothing.',
        parameters=[BLOCK_ID],
        request=BlockIssuesInput,
        responses={200: WorkBlockDetailOutput, **error_responses(*BODY_ERRORS, 403, 404)},
    )
    def post(self, request: Request, block_id: str) -> Response:
        org, actor = self.org(request), self.actor(request)
        block = work_block_get_for(actor=actor, org=org, block_id=block_id)
        data = self.input(request, BlockIssuesInput)
        require_block_editor(actor)
        keys: list[str] = data["all_keys"]
        issues = {i.key: i for i in Issue.objects.select_related("org", "assignee").filter(org=org, key__in=keys)}
        missing = [k for k in keys if k not in issues]
        if missing:
            raise InvalidInput(f"There is no issue {', '.join(missing)} in this org.", field="keys")
        # The block permission (checked above) governs membership, not the issue's.
        do_issues_set_work_block(actor=actor, issues=[issues[k] for k in keys], work_block=block)
        return Response(work_block_detail(block))


class WorkBlockIssueApi(MesaAPIView):
    @extend_schema(
        operation_id="work_blocks_remove_issue",
        tags=TAGS,
        summary="Take an issue out of a work block (board or CEO)",
        parameters=[BLOCK_ID, text_parameter("key", "The issue key.")],
        responses={200: WorkBlockDetailOutput, **error_responses(403, 404)},
    )
    def delete(self, request: Request, block_id: str, key: str) -> Response:
        org, actor = self.org(request), self.actor(request)
        block = work_block_get_for(actor=actor, org=org, block_id=block_id)
        require_block_editor(actor)
        issue = Issue.objects.select_related("org", "assignee").filter(org=org, key=key.strip().upper()).first()
        if issue is None or issue.work_block_id != block.pk:
            raise NotFound(f"{key} is not in work block {block.pk}.")
        # The block permission (checked above) governs membership, not the issue's.
        do_issue_update(actor=actor, issue=issue, work_block=None)
        return Response(work_block_detail(block))


class AlignmentApi(MesaAPIView):
    @extend_schema(
        operation_id="alignment_get",
        tags=APEX_TAGS,
        summary="The org's alignment score: open work blocks tied to an active goal",
        responses={200: AlignmentOutput, **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return Response(alignment_out(alignment_score(self.org(request))))


class ApexBlockCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="apex_blocks_list",
        tags=APEX_TAGS,
        summary="List apex blocks (strategic goals) with the org's alignment score",
        parameters=[status_parameter(ApexStatus.values), *PAGE_PARAMETERS],
        responses={200: ApexBlockPage, **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        org = self.org(request)
        page = Page.from_request(request)
        qs = ApexBlock.objects.filter(org=org)
        statuses = status_filter(request, ApexStatus.values)
        if statuses:
            qs = qs.filter(status__in=statuses)
        rows = page.slice(qs.annotate(work_block_count=Count("work_blocks")).order_by("-created_at", "-id"))
        body = page.body(request, list(ApexBlockListItemOutput(rows, many=True).data))
        body["alignment"] = alignment_out(alignment_score(org))
        return Response(body)

    @extend_schema(
        operation_id="apex_blocks_create",
        tags=APEX_TAGS,
        summary="Create an apex block (board or CEO)",
        request=ApexBlockCreateInput,
        responses={201: ApexBlockDetailOutput, **error_responses(*BODY_ERRORS, 403)},
    )
    def post(self, request: Request) -> Response:
        org, actor = self.org(request), self.actor(request)
        data = self.input(request, ApexBlockCreateInput)
        apex = apex_block_create(actor=actor, org=org, title=data["title"], goal=data["goal"])
        return Response(apex_block_detail(apex), status=status.HTTP_201_CREATED)


class ApexBlockApi(MesaAPIView):
    @extend_schema(
        operation_id="apex_blocks_get",
        tags=APEX_TAGS,
        summary="Get an apex block with its work blocks",
        parameters=[APEX_ID],
        responses={200: ApexBlockDetailOutput, **error_responses(404)},
    )
    def get(self, request: Request, apex_id: str) -> Response:
        apex = apex_block_get_for(actor=self.actor(request), org=self.org(request), apex_id=apex_id)
        return Response(apex_block_detail(apex))

    @extend_schema(
        operation_id="apex_blocks_update",
        tags=APEX_TAGS,
        summary="Update an apex block: title, goal, status active/archived (board or CEO)",
        parameters=[APEX_ID],
        request=ApexBlockUpdateInput,
        responses={200: ApexBlockDetailOutput, **error_responses(*BODY_ERRORS, 403, 404)},
    )
    def patch(self, request: Request, apex_id: str) -> Response:
        org, actor = self.org(request), self.actor(request)
        apex = apex_block_get_for(actor=actor, org=org, apex_id=apex_id)
        data = self.input(request, ApexBlockUpdateInput)
        apex = apex_block_update(actor=actor, apex=apex, **data)
        return Response(apex_block_detail(apex))

"""Issues: list, get, create, update, delete, checkout, release, comments, similarity."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import MesaAPIView
from api.errors import error_responses
from api.openapi import BODY_ERRORS
from api.pagination import PAGE_PARAMETERS, Page, envelope
from api.serializers.issues import (
    ISSUE_ROW_FIELDS,
    CheckoutInput,
    CommentCreateInput,
    CommentOutput,
    IssueCreatedOutput,
    IssueCreateInput,
    IssueDetailOutput,
    IssueOutput,
    IssueUpdateInput,
    RelationCreatedOutput,
    RelationInput,
    ReleaseInput,
    SimilarityInput,
    SimilarOutput,
    comment_out,
    issue_rows_of,
)
from api.serializers.workspace import WorkspaceOutput
from api.views._lookups import agent_ref, issue_ref, work_block_ref
from issues.checkout import issue_checkout, issue_release
from issues.comments import comment_create
from issues.models import OPEN_STATUSES, Issue, Status
from issues.relations import relation_add, relation_remove
from issues.selectors import issue_get_for, issue_similar
from issues.services import issue_create, issue_delete, issue_edit
from orgs.compiled import compiled
from orgs.errors import Conflict, InvalidInput, NotFound
from orgs.models import Org
from orgs.numbers import whole_number
from runners.branches import workspace_state

TAGS = ["issues"]


def _statuses(request: Request) -> list[str]:
    wanted: list[str] = []
    for raw in request.query_params.getlist("status"):
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            if part == "open":
                wanted.extend(OPEN_STATUSES)
            elif part in Status.values:
                wanted.append(part)
            else:
                raise InvalidInput(
                    f"Unknown status {part!r}; use open or any of {', '.join(Status.values)}.", field="status"
                )
    return wanted


def issue_filter(request: Request, org: Org) -> tuple[tuple[str, ...], list[Any]]:
    """The list's query for the query string: its shape (which filters) and their values, for _issue_list."""
    shape: list[str] = []
    values: list[Any] = []
    params = request.query_params
    statuses = _statuses(request)
    if statuses:
        shape.append(f"status:{len(statuses)}")
        values.extend(statuses)
    assignee = params.get("assignee", "").strip()
    if assignee == "none":
        shape.append("unassigned")
    elif assignee == "me":
        agent = request.actor.agent  # type: ignore[attr-defined]
        if agent is None:
            raise InvalidInput("assignee=me needs an agent key; a board key is nobody.", field="assignee")
        shape.append("assignee")
        values.append(agent.pk)
    elif assignee:
        found = agent_ref(org, assignee, "assignee")
        assert found is not None  # a slug that names no agent of the org is refused there
        shape.append("assignee")
        values.append(found.pk)
    label = params.get("label", "").strip()
    if label:
        shape.append("label")
        values.append(label)
    block = params.get("work_block", "").strip()
    if block:
        block_pk = whole_number(block, minimum=1)
        if block_pk is None:
            raise InvalidInput("work_block must be a work block id.", field="work_block")
        shape.append("work_block")
        values.append(block_pk)
    parent = params.get("parent", "").strip()
    if parent:
        shape.append("parent")
        values.append(parent.upper())
    q = params.get("q", "").strip()
    if q:
        shape.append("q")
        values.append(q)
    return tuple(shape), values


def _issue_list_query(shape: tuple[str, ...], org_id: int, *values: Any) -> QuerySet[Issue, Any]:
    """The org's issues (not archived) narrowed by the filters named in ``shape``, in list order."""
    qs = Issue.objects.filter(org_id=org_id, archived_at__isnull=True)
    given = iter(values)
    for name in shape:
        if name.startswith("status:"):
            qs = qs.filter(status__in=[next(given) for _ in range(int(name.split(":")[1]))])
        elif name == "unassigned":
            qs = qs.filter(assignee__isnull=True)
        elif name == "assignee":
            qs = qs.filter(assignee_id=next(given))
        elif name == "label":
            qs = qs.filter(labels__org_id=org_id, labels__name__iexact=next(given))
        elif name == "work_block":
            qs = qs.filter(work_block_id=next(given))
        elif name == "parent":
            qs = qs.filter(parent__key=next(given))
        elif name == "q":
            q = next(given)
            qs = qs.filter(Q(key__iexact=q) | Q(title__icontains=q) | Q(description__icontains=q))
    return qs.order_by("-priority", "created_at", "id").values_list(*ISSUE_ROW_FIELDS)


# Agents list issues all the time: the query is compiled once per filter shape (orgs/compiled.py);
# the shapes with a text match (label, q) run through the ORM each time.
_issue_list = compiled(_issue_list_query)


LIST_PARAMETERS = [
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        description="Comma-separated statuses (or repeated); 'open' = every non-terminal status.",
    ),
    OpenApiParameter("assignee", OpenApiTypes.STR, description="Agent slug, 'me', or 'none' for unassigned."),
    OpenApiParameter("label", OpenApiTypes.STR, description="Label name."),
    OpenApiParameter("work_block", OpenApiTypes.INT, description="Work block id."),
    OpenApiParameter("parent", OpenApiTypes.STR, description="Parent issue key."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Text search over key, title and description."),
    *PAGE_PARAMETERS,
]


class IssueCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="issues_list",
        tags=TAGS,
        summary="List issues",
        parameters=LIST_PARAMETERS,
        responses={200: envelope(IssueOutput), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        org = self.org(request)
        page = Page.from_request(request)
        shape, values = issue_filter(request, org)
        raw = _issue_list.page(shape, org.pk, *values, offset=page.offset, limit=page.limit)
        page.settle(len(raw), lambda: _issue_list.count(shape, org.pk, *values))
        return page.response(request, issue_rows_of(raw))

    @extend_schema(
        operation_id="issues_create",
        tags=TAGS,
        summary="Create an issue",
        description=(
            "An open issue with the same title (ignoring case and spacing) is a 409 with `existing_key`. "
            "`warnings` lists what the acceptance-criteria linter found (a feature or bug without criteria); "
            "the issue is created either way."
        ),
        request=IssueCreateInput,
        responses={201: IssueCreatedOutput, **error_responses(400, 403, 409, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        org, actor = self.org(request), self.actor(request)
        data = self.input(request, IssueCreateInput)
        issue = issue_create(
            actor=actor,
            org=org,
            title=data["title"],
            description=data["description"],
            acceptance_criteria=data["acceptance_criteria"],
            priority=data["priority"],
            type=data["type"],
            labels=data["labels"],
            assignee=agent_ref(org, data.get("assignee"), "assignee"),
            parent=issue_ref(org, data.get("parent"), "parent"),
            work_block=work_block_ref(org, data.get("work_block"), "work_block"),
        )
        issue = issue_get_for(actor=actor, org=org, key=issue.key)
        return Response(IssueCreatedOutput(issue).data, status=status.HTTP_201_CREATED)


class IssueApi(MesaAPIView):
    @extend_schema(
        operation_id="issues_get",
        tags=TAGS,
        summary="Get an issue with comments, children, relations and a runs summary",
        responses={200: IssueDetailOutput, **error_responses(404)},
    )
    def get(self, request: Request, key: str) -> Response:
        issue = issue_get_for(actor=self.actor(request), org=self.org(request), key=key)
        return Response(IssueDetailOutput(issue).data)

    @extend_schema(
        operation_id="issues_update",
        tags=TAGS,
        summary="Update an issue (status, fields, and an optional comment, all in one transaction)",
        description=(
            "Only the given fields change. `status` moves through the lifecycle: an illegal move is a 409 whose "
            "`allowed` lists the legal next statuses. You may change issues assigned to you, to agents reporting "
            "to you, or whose work you review; the CEO and board keys may change everything."
        ),
        request=IssueUpdateInput,
        responses={200: IssueDetailOutput, **error_responses(400, 403, 404, 409, 413, 415)},
    )
    def patch(self, request: Request, key: str) -> Response:
        org, actor = self.org(request), self.actor(request)
        issue = issue_get_for(actor=actor, org=org, key=key)
        data = self.input(request, IssueUpdateInput)
        changes: dict[str, Any] = {
            name: data[name]
            for name in ("title", "description", "acceptance_criteria", "priority", "type", "labels")
            if name in data
        }
        if "assignee" in data:
            changes["assignee"] = agent_ref(org, data["assignee"], "assignee")
        if "parent" in data:
            changes["parent"] = issue_ref(org, data["parent"], "parent")
        if "work_block" in data:
            changes["work_block"] = work_block_ref(org, data["work_block"], "work_block")
        issue = issue_edit(
            actor=actor, issue=issue, status=data.get("status", ""), comment=data.get("comment", ""), **changes
        )
        issue = issue_get_for(actor=actor, org=org, key=issue.key)
        return Response(IssueDetailOutput(issue).data)

    @extend_schema(
        operation_id="issues_delete",
        tags=TAGS,
        summary="Delete an issue (board keys and the CEO only)",
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(403, 404)},
    )
    def delete(self, request: Request, key: str) -> Response:
        actor = self.actor(request)
        issue = issue_get_for(actor=actor, org=self.org(request), key=key)
        issue_delete(actor=actor, issue=issue)
        return Response(status=status.HTTP_204_NO_CONTENT)


class IssueCheckoutApi(MesaAPIView):
    @extend_schema(
        operation_id="issues_checkout",
        tags=TAGS,
        summary="Claim a todo issue: it becomes in_progress and yours, atomically",
        description=(
            "Of many concurrent checkouts exactly one wins (200); the others get 409 `already_claimed`. "
            "An issue you already hold in progress is a 200 (idempotent). An issue assigned to another agent is a "
            "403 (the CEO may take it over). Board keys are not agents: 400 `not_an_agent`. No body needed; "
            "`expected_statuses` (alias `expectedStatuses`) refuses with 409 `unexpected_status` when the issue "
            "is in none of them."
        ),
        request=CheckoutInput,
        responses={200: IssueOutput, **error_responses(403, 404, 409, *BODY_ERRORS)},
    )
    def post(self, request: Request, key: str) -> Response:
        actor = self.actor(request)
        issue = issue_get_for(actor=actor, org=self.org(request), key=key)
        # The body is optional: only a JSON one is read (a bodiless POST may carry any content type).
        is_json = (request.content_type or "").startswith("application/json")
        expected = self.input(request, CheckoutInput).get("expected_statuses") if is_json else None
        if expected is not None and issue.status not in expected:
            raise Conflict(
                f"{issue.key} is {issue.status}, not one of the expected {', '.join(expected) or '(none)'}.",
                code="unexpected_status",
                current=issue.status,
            )
        issue = issue_checkout(actor=actor, issue=issue)
        return Response(IssueOutput(issue).data)


class IssueReleaseApi(MesaAPIView):
    @extend_schema(
        operation_id="issues_release",
        tags=TAGS,
        summary="Give a claimed issue back (in_progress/blocked → todo, unassigned)",
        description="The holder, its managers, the CEO and board keys may release. Optional body {comment}.",
        request=ReleaseInput,
        responses={200: IssueOutput, **error_responses(400, 403, 404, 409, 415)},
    )
    def post(self, request: Request, key: str) -> Response:
        actor = self.actor(request)
        issue = issue_get_for(actor=actor, org=self.org(request), key=key)
        data = self.input(request, ReleaseInput)
        issue = issue_release(actor=actor, issue=issue, comment=data["comment"])
        return Response(IssueOutput(issue).data)


class IssueCommentsApi(MesaAPIView):
    @extend_schema(
        operation_id="issues_comment",
        tags=TAGS,
        summary="Comment on an issue (kind comment or evidence)",
        request=CommentCreateInput,
        responses={201: CommentOutput, **error_responses(400, 403, 404, 409, 413, 415)},
    )
    def post(self, request: Request, key: str) -> Response:
        actor = self.actor(request)
        issue = issue_get_for(actor=actor, org=self.org(request), key=key)
        data = self.input(request, CommentCreateInput)
        comment = comment_create(actor=actor, issue=issue, body=data["body"], kind=data["kind"])
        slug = actor.agent.slug if actor.agent else None
        return Response(comment_out(comment, slug), status=status.HTTP_201_CREATED)


class IssueSimilarityApi(MesaAPIView):
    @extend_schema(
        operation_id="issues_similarity",
        tags=TAGS,
        summary="Open issues whose titles look like the given one (check before creating)",
        request=SimilarityInput,
        responses={200: envelope(SimilarOutput), **error_responses(400, 415)},
    )
    def post(self, request: Request) -> Response:
        data = self.input(request, SimilarityInput)
        found = issue_similar(
            org=self.org(request), title=data["title"], threshold=data["threshold"], limit=data["limit"]
        )
        results = [
            {
                "key": issue.key,
                "title": issue.title,
                "status": issue.status,
                "assignee": issue.assignee.slug if issue.assignee_id and issue.assignee else None,
                "score": score,
            }
            for issue, score in found
        ]
        page = Page(limit=data["limit"], offset=0)
        page.slice_list(results)
        return page.response(request, results)


class IssueWorkspaceApi(MesaAPIView):
    @extend_schema(
        operation_id="issues_workspace",
        tags=TAGS,
        summary="The issue's workspace: branch, target, ahead / behind, its commits, ship state, dirty files",
        description=(
            "404 `no_workspace` until the issue's first run in a git repository created its branch. "
            "`dirty` lists the uncommitted files of the run working on the issue now."
        ),
        responses={200: WorkspaceOutput, **error_responses(404)},
    )
    def get(self, request: Request, key: str) -> Response:
        issue = issue_get_for(actor=self.actor(request), org=self.org(request), key=key)
        state = workspace_state(issue)
        if state is None:
            raise NotFound(
                f"{issue.key} has no branch yet: its first run in a git repository creates it.", code="no_workspace"
            )
        return Response(WorkspaceOutput(asdict(state)).data)


class IssueRelationsApi(MesaAPIView):
    @extend_schema(
        operation_id="issues_relation_add",
        tags=TAGS,
        summary="Relate this issue to another: blocks, blocked_by, relates_to, duplicates",
        description="Adding an existing relation is a 201 again (idempotent); a mutual block is a 409.",
        request=RelationInput,
        responses={201: RelationCreatedOutput, **error_responses(403, 404, 409, *BODY_ERRORS)},
    )
    def post(self, request: Request, key: str) -> Response:
        actor, org = self.actor(request), self.org(request)
        issue = issue_get_for(actor=actor, org=org, key=key)
        data = self.input(request, RelationInput)
        target = issue_ref(org, data["target"], "target")
        assert target is not None
        relation = relation_add(actor=actor, source=issue, target=target, kind=data["kind"])
        out = {"issue": relation.source.key, "kind": relation.kind, "target": relation.target.key}
        return Response(RelationCreatedOutput(out).data, status=status.HTTP_201_CREATED)


class IssueRelationApi(MesaAPIView):
    @extend_schema(
        operation_id="issues_relation_remove",
        tags=TAGS,
        summary="Remove a relation (kind as when it was added; relates_to either way)",
        responses={204: None, **error_responses(400, 403, 404)},
    )
    def delete(self, request: Request, key: str, kind: str, target: str) -> Response:
        actor, org = self.actor(request), self.org(request)
        issue = issue_get_for(actor=actor, org=org, key=key)
        other = issue_get_for(actor=actor, org=org, key=target)
        relation_remove(actor=actor, source=issue, target=other, kind=kind)
        return Response(status=status.HTTP_204_NO_CONTENT)

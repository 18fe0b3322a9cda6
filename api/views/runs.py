"""Runs: list (newest first, cursor paged), one run in full, and cancel."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import MesaAPIView
from api.errors import error_responses
from api.openapi import BODY_ERRORS, id_parameter, status_filter, status_parameter
from api.pagination import CURSOR_PARAMETERS, CursorPage, cursor_envelope
from api.serializers.runs import RunCancelInput, RunDetailOutput, RunOutput, run_detail_out, run_out
from orgs.errors import InvalidInput
from orgs.models import Org
from runners.models import Run, RunMode, RunStatus
from runners.selectors import run_get_for, run_prompt_readable
from runners.services import run_cancel

TAGS = ["runs"]
RUN_ID = id_parameter("run_id", "run")


def _modes(request: Request) -> list[str]:
    wanted: list[str] = []
    for raw in request.query_params.getlist("mode"):
        for part in (p.strip() for p in raw.split(",")):
            if part and part not in RunMode.values:
                raise InvalidInput(f"Unknown mode {part!r}; use any of {', '.join(RunMode.values)}.", field="mode")
            if part:
                wanted.append(part)
    return wanted


def run_filter(request: Request, org: Org) -> QuerySet[Run]:
    """The org's runs narrowed by ``issue``, ``agent``, ``status`` and ``mode`` (see RunCollectionApi.get)."""
    qs = Run.objects.filter(org=org).select_related("agent", "issue")
    params = request.query_params
    issue = params.get("issue", "").strip()
    if issue:
        qs = qs.filter(issue__key=issue.upper())
    agent = params.get("agent", "").strip()
    if agent == "me":
        me = request.actor.agent  # type: ignore[attr-defined]
        if me is None:
            raise InvalidInput("agent=me needs an agent key; a board key is nobody.", field="agent")
        qs = qs.filter(agent=me)
    elif agent:
        qs = qs.filter(agent__slug=agent.lower())
    statuses = status_filter(request, RunStatus.values)
    if statuses:
        qs = qs.filter(status__in=statuses)
    modes = _modes(request)
    if modes:
        qs = qs.filter(mode__in=modes)
    return qs


class RunCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="runs_list",
        tags=TAGS,
        summary="List runs, newest first",
        description="Every key of the org may read its runs. Cursor paged: follow `next` (or pass `next_cursor`).",
        parameters=[
            OpenApiParameter("issue", OpenApiTypes.STR, description="Issue key."),
            OpenApiParameter("agent", OpenApiTypes.STR, description="Agent slug, or 'me'."),
            status_parameter(RunStatus.values),
            OpenApiParameter("mode", OpenApiTypes.STR, description=f"Comma-separated: {', '.join(RunMode.values)}."),
            *CURSOR_PARAMETERS,
        ],
        responses={200: cursor_envelope(RunOutput), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        page = CursorPage.from_request(request)
        rows = page.slice(run_filter(request, self.org(request)))
        return page.response(request, [run_out(r) for r in rows])


class RunApi(MesaAPIView):
    @extend_schema(
        operation_id="runs_get",
        tags=TAGS,
        summary="One run: transcript (events), diff, branch, tokens, cost; the prompt for those allowed",
        parameters=[RUN_ID],
        responses={200: RunDetailOutput, **error_responses(404)},
    )
    def get(self, request: Request, run_id: str) -> Response:
        actor = self.actor(request)
        run = run_get_for(actor=actor, org=self.org(request), run_id=run_id)
        return Response(run_detail_out(run, prompt_visible=run_prompt_readable(actor, run)))


class RunCancelApi(MesaAPIView):
    @extend_schema(
        operation_id="runs_cancel",
        tags=TAGS,
        summary="Cancel a run (board keys and the agent's managers)",
        description=(
            "A queued run is cancelled at once. A running one is asked to stop: its process group gets SIGTERM, "
            "then SIGKILL after MESA_KILL_GRACE_S, and it ends `cancelled` (watch `status`). The issue gets a "
            "system comment. The agent itself may not cancel its runs (403); an ended run is a 409."
        ),
        parameters=[RUN_ID],
        request=RunCancelInput,
        responses={200: RunOutput, **error_responses(403, 404, 409, *BODY_ERRORS)},
    )
    def post(self, request: Request, run_id: str) -> Response:
        actor = self.actor(request)
        run = run_get_for(actor=actor, org=self.org(request), run_id=run_id)
        data = self.input(request, RunCancelInput)
        run = run_cancel(actor=actor, run=run, reason=data["reason"])
        return Response(run_out(run))

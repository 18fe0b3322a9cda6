"""An issue's stages: read them, replace them, complete one (the ordered checklist inside an issue)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import MesaAPIView
from api.errors import error_responses
from api.fields import StrictCharField, StrictInput
from issues.selectors import issue_get_for
from issues.stages import MAX_STAGES, MAX_TITLE, Progress, stage_complete, stage_progress, stages_set

TAGS = ["issues"]


class StageOutput(serializers.Serializer):
    number = serializers.IntegerField(help_text="1, 2, … in order.")
    title = serializers.CharField()
    done = serializers.BooleanField()


class StagesOutput(serializers.Serializer):
    stages = StageOutput(many=True)
    current_stage = serializers.IntegerField(help_text="The first stage not done (the last when all are); 0: none.")
    progress = serializers.IntegerField(help_text="Percentage of stages done, 0–100.")


class StagesInput(StrictInput):
    stages = serializers.ListField(
        child=StrictCharField(max_length=MAX_TITLE), min_length=1, max_length=MAX_STAGES, help_text="Titles, in order."
    )


def stages_out(progress: Progress) -> dict[str, Any]:
    return {
        "stages": [{"number": s.number, "title": s.title, "done": s.done} for s in progress.stages],
        "current_stage": progress.current,
        "progress": progress.percent,
    }


class IssueStagesApi(MesaAPIView):
    @extend_schema(
        operation_id="issues_stages",
        tags=TAGS,
        summary="An issue's stages, current stage and progress",
        responses={200: StagesOutput, **error_responses(404)},
    )
    def get(self, request: Request, key: str) -> Response:
        issue = issue_get_for(actor=self.actor(request), org=self.org(request), key=key)
        return Response(stages_out(stage_progress(issue)))

    @extend_schema(
        operation_id="issues_stages_set",
        tags=TAGS,
        summary="Replace an issue's stages (leading stages with unchanged titles stay done)",
        request=StagesInput,
        responses={200: StagesOutput, **error_responses(400, 403, 404, 413, 415)},
    )
    def put(self, request: Request, key: str) -> Response:
        actor = self.actor(request)
        issue = issue_get_for(actor=actor, org=self.org(request), key=key)
        data = self.input(request, StagesInput)
        return Response(stages_out(stages_set(actor=actor, issue=issue, titles=data["stages"])))


class IssueStageCompleteApi(MesaAPIView):
    @extend_schema(
        operation_id="issues_stage_complete",
        tags=TAGS,
        summary="Complete stage N (the stages before it must be done: 409 stage_order otherwise)",
        request=None,
        responses={200: StagesOutput, **error_responses(403, 404, 409)},
    )
    def post(self, request: Request, key: str, number: int) -> Response:
        actor = self.actor(request)
        issue = issue_get_for(actor=actor, org=self.org(request), key=key)
        return Response(stages_out(stage_complete(actor=actor, issue=issue, number=number)))

"""Routines (recurring work per agent) and agents' output policies: board keys write, any key of the org reads."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Agent
from api.base import MesaAPIView
from api.errors import error_responses
from api.fields import StrictBooleanField, StrictCharField, StrictInput, StrictIntegerField
from api.openapi import BODY_ERRORS
from hooks.models import OutputPolicy, Routine
from hooks.routines import routine_create, routine_run_now
from hooks.selectors import routine_get_for, routines_for
from hooks.writeback import policy_set
from orgs.errors import InvalidInput, NotFound
from orgs.models import Org

TAGS = ["routines"]


class RoutineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    agent = serializers.CharField()
    cron = serializers.CharField()
    timezone = serializers.CharField()
    action = serializers.CharField()
    concurrency = serializers.CharField()
    next_fire_at = serializers.DateTimeField(allow_null=True)
    last_fire_at = serializers.DateTimeField(allow_null=True)
    last_issue = serializers.CharField(allow_null=True)


class RoutineCreateInput(StrictInput):
    name = StrictCharField(max_length=100)
    agent = StrictCharField(help_text="Agent slug.")
    cron = StrictCharField(max_length=100, help_text="Five fields: minute hour day-of-month month day-of-week.")
    timezone = StrictCharField(required=False, default="UTC", max_length=64)
    action = StrictCharField(required=False, default="issue", help_text="issue or run.")
    concurrency = StrictCharField(required=False, default="skip", help_text="skip or queue.")
    title_template = StrictCharField(max_length=300, help_text="{{ routine }}, {{ agent }}, {{ date }}, {{ time }}.")
    body_template = StrictCharField(required=False, default="", allow_blank=True, max_length=20_000)


def routine_out(r: Routine) -> dict[str, Any]:
    return {
        "id": r.pk, "name": r.name, "agent": r.agent.slug, "cron": r.cron, "timezone": r.timezone,
        "action": r.action, "concurrency": r.concurrency, "next_fire_at": r.next_fire_at,
        "last_fire_at": r.last_fire_at, "last_issue": r.last_issue.key if r.last_issue else None,
    }  # fmt: skip


def _agent(org: Org, slug: str) -> Agent:
    agent = Agent.objects.filter(org=org, slug=slug.strip().lower()).first()
    if agent is None:
        raise NotFound(f"No agent {slug!r} in this org.")
    return agent


class RoutineCollectionApi(MesaAPIView):
    @extend_schema(operation_id="routines_list", tags=TAGS, summary="List routines with next and last fire",
                   responses={200: RoutineOutput(many=True), **error_responses()})  # fmt: skip
    def get(self, request: Request) -> Response:
        return Response([routine_out(r) for r in routines_for(self.org(request))])

    @extend_schema(operation_id="routines_create", tags=TAGS, summary="Create a routine (board keys)",
                   request=RoutineCreateInput,
                   responses={201: RoutineOutput, **error_responses(403, 404, *BODY_ERRORS)})  # fmt: skip
    def post(self, request: Request) -> Response:
        data = self.input(request, RoutineCreateInput)
        agent = _agent(self.org(request), data.pop("agent"))
        tz = data.pop("timezone")
        routine = routine_create(actor=self.actor(request), agent=agent, tz=tz, **data)
        return Response(routine_out(routine), status=status.HTTP_201_CREATED)


class RoutineRunApi(MesaAPIView):
    @extend_schema(operation_id="routines_run_now", tags=TAGS, summary="Run a routine now (board keys)",
                   request=None, responses={200: RoutineOutput, **error_responses(403, 404)})  # fmt: skip
    def post(self, request: Request, routine_id: str) -> Response:
        if not routine_id.isdigit():
            raise NotFound("No such routine in this org.")
        routine = routine_get_for(self.org(request), int(routine_id))
        return Response(routine_out(routine_run_now(actor=self.actor(request), routine=routine)))


class PolicyIO(StrictInput):
    comments_allowed = StrictBooleanField(required=False, default=True)
    max_comment_length = StrictIntegerField(required=False, default=4000, min_value=0, max_value=1_000_000)
    labels_allowed = serializers.ListField(child=StrictCharField(max_length=100), required=False, default=list)
    labels_denied = serializers.ListField(child=StrictCharField(max_length=100), required=False, default=list)
    status_allowed = StrictBooleanField(required=False, default=False)
    suggestions_allowed = StrictBooleanField(required=False, default=False)


POLICY_FIELDS = ("comments_allowed", "max_comment_length", "labels_allowed", "labels_denied", "status_allowed",
                 "suggestions_allowed")  # fmt: skip


def policy_out(p: OutputPolicy) -> dict[str, Any]:
    return {name: getattr(p, name) for name in POLICY_FIELDS}


class OutputPolicyApi(MesaAPIView):
    @extend_schema(operation_id="output_policy_get", tags=TAGS, summary="An agent's output policy",
                   responses={200: PolicyIO, **error_responses(404)})  # fmt: skip
    def get(self, request: Request, slug: str) -> Response:
        policy = OutputPolicy.objects.filter(agent=_agent(self.org(request), slug)).first()
        if policy is None:
            raise NotFound("This agent has no output policy: it may not write back.")
        return Response(policy_out(policy))

    @extend_schema(operation_id="output_policy_put", tags=TAGS, summary="Set an agent's output policy (board keys)",
                   request=PolicyIO, responses={200: PolicyIO, **error_responses(403, 404, *BODY_ERRORS)})  # fmt: skip
    def put(self, request: Request, slug: str) -> Response:
        agent = _agent(self.org(request), slug)
        data = self.input(request, PolicyIO)
        if set(data["labels_allowed"]) & set(data["labels_denied"]):
            raise InvalidInput("A label cannot be both allowed and denied.", field="labels_denied")
        return Response(policy_out(policy_set(actor=self.actor(request), agent=agent, **data)))

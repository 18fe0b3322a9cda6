"""How the org learns: board policies (board keys write, anyone in the org reads), skills (agents propose,
the board decides through approvals), run evaluations (read), and starting an audit (board keys)."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import MesaAPIView
from api.errors import error_responses
from api.fields import StrictBooleanField, StrictCharField, StrictInput
from api.openapi import BODY_ERRORS
from api.pagination import PAGE_PARAMETERS, Page, envelope
from api.serializers.learning import SkillProposeInput
from api.views._lookups import agent_ref
from learning.models import BoardPolicy, Evaluation, Skill
from learning.selectors import policy_get, skill_get
from learning.services import policy_create, policy_update, skill_propose
from runners.audit import audit_request

TAGS = ["learning"]


class BoardPolicyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    text = serializers.CharField()
    active = serializers.BooleanField()
    created_by = serializers.CharField()


class BoardPolicyCreateInput(StrictInput):
    text = StrictCharField(max_length=500, help_text="A short directive for every agent of the org.")
    active = StrictBooleanField(required=False, default=True)


class BoardPolicyUpdateInput(StrictInput):
    text = StrictCharField(required=False, max_length=500)
    active = StrictBooleanField(required=False)


def policy_out(p: BoardPolicy) -> dict[str, Any]:
    return {"id": p.pk, "slug": p.slug, "text": p.text, "active": p.active, "created_by": p.created_by_label}


class BoardPolicyCollectionApi(MesaAPIView):
    @extend_schema(operation_id="board_policies_list", tags=TAGS, summary="List the board's policies",
                   parameters=PAGE_PARAMETERS,
                   responses={200: envelope(BoardPolicyOutput), **error_responses(400)})  # fmt: skip
    def get(self, request: Request) -> Response:
        page = Page.from_request(request)
        rows = page.slice(BoardPolicy.objects.filter(org=self.org(request)).order_by("id"))
        return page.response(request, [policy_out(p) for p in rows])

    @extend_schema(operation_id="board_policies_create", tags=TAGS, summary="Write a board policy (board keys)",
                   request=BoardPolicyCreateInput,
                   responses={201: BoardPolicyOutput, **error_responses(403, *BODY_ERRORS)})  # fmt: skip
    def post(self, request: Request) -> Response:
        self.require_board(request, "write board policies")
        data = self.input(request, BoardPolicyCreateInput)
        policy = policy_create(actor=self.actor(request), org=self.org(request), **data)
        return Response(policy_out(policy), status=status.HTTP_201_CREATED)


class BoardPolicyApi(MesaAPIView):
    @extend_schema(operation_id="board_policies_update", tags=TAGS,
                   summary="Change a board policy's text or switch it on or off (board keys)",
                   request=BoardPolicyUpdateInput,
                   responses={200: BoardPolicyOutput, **error_responses(403, 404, *BODY_ERRORS)})  # fmt: skip
    def patch(self, request: Request, policy_id: str) -> Response:
        self.require_board(request, "change board policies")
        policy = policy_get(org=self.org(request), policy_id=policy_id)
        data = self.input(request, BoardPolicyUpdateInput)
        return Response(policy_out(policy_update(actor=self.actor(request), policy=policy, **data)))


class SkillOutput(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    archetype = serializers.CharField(help_text="The archetype it is attached to, or empty.")
    agent = serializers.CharField(allow_null=True, help_text="The agent it is attached to, or null.")
    status = serializers.CharField(help_text="proposed, active, rejected or retired.")
    proposed_by = serializers.CharField()


def skill_out(s: Skill) -> dict[str, Any]:
    return {
        "slug": s.slug, "title": s.title, "body": s.body, "archetype": s.archetype,
        "agent": s.agent.slug if s.agent_id and s.agent else None, "status": s.status,
        "proposed_by": s.proposed_by_label,
    }  # fmt: skip


class SkillCollectionApi(MesaAPIView):
    @extend_schema(operation_id="skills_list", tags=TAGS, summary="List skills", parameters=PAGE_PARAMETERS,
                   responses={200: envelope(SkillOutput), **error_responses(400)})  # fmt: skip
    def get(self, request: Request) -> Response:
        page = Page.from_request(request)
        rows = page.slice(Skill.objects.filter(org=self.org(request)).select_related("agent").order_by("title"))
        return page.response(request, [skill_out(s) for s in rows])

    @extend_schema(operation_id="skills_propose", tags=TAGS,
                   summary="Propose a skill (an agent's proposal waits for the board's approval)",
                   request=SkillProposeInput,
                   responses={201: SkillOutput, **error_responses(*BODY_ERRORS)})  # fmt: skip
    def post(self, request: Request) -> Response:
        data = self.input(request, SkillProposeInput)
        org = self.org(request)
        agent = agent_ref(org, data.pop("agent"), "agent")
        skill = skill_propose(actor=self.actor(request), org=org, agent=agent, **data)
        return Response(skill_out(skill), status=status.HTTP_201_CREATED)


class SkillApi(MesaAPIView):
    @extend_schema(operation_id="skills_get", tags=TAGS, summary="One skill",
                   responses={200: SkillOutput, **error_responses(404)})  # fmt: skip
    def get(self, request: Request, slug: str) -> Response:
        return Response(skill_out(skill_get(org=self.org(request), slug=slug)))


class EvaluationOutput(serializers.Serializer):
    run_id = serializers.IntegerField()
    judge_run_id = serializers.IntegerField(allow_null=True)
    agent = serializers.CharField()
    archetype = serializers.CharField()
    issue = serializers.CharField(allow_null=True)
    status = serializers.CharField(help_text="pending, scored, malformed or failed.")
    fidelity = serializers.FloatField(allow_null=True)
    scope_drift = serializers.FloatField(allow_null=True)
    missed_criteria = serializers.FloatField(allow_null=True)
    unrequested_changes = serializers.FloatField(allow_null=True)
    overall = serializers.FloatField(allow_null=True, help_text="1 is a perfect run.")
    reasons = serializers.DictField(child=serializers.CharField())
    verdict = serializers.CharField()
    error = serializers.CharField()


def evaluation_out(e: Evaluation) -> dict[str, Any]:
    return {
        "run_id": e.run_id, "judge_run_id": e.judge_run_id, "agent": e.agent.slug, "archetype": e.archetype,
        "issue": e.issue.key if e.issue_id and e.issue else None, "status": e.status, "fidelity": e.fidelity,
        "scope_drift": e.scope_drift, "missed_criteria": e.missed_criteria,
        "unrequested_changes": e.unrequested_changes, "overall": e.overall, "reasons": e.reasons,
        "verdict": e.verdict, "error": e.error,
    }  # fmt: skip


class EvaluationCollectionApi(MesaAPIView):
    @extend_schema(operation_id="evaluations_list", tags=TAGS, summary="Run evaluations, worst first",
                   parameters=[*PAGE_PARAMETERS, OpenApiParameter("agent", str, description="An agent slug.")],
                   responses={200: envelope(EvaluationOutput), **error_responses(400)})  # fmt: skip
    def get(self, request: Request) -> Response:
        page = Page.from_request(request)
        org = self.org(request)
        rows = Evaluation.objects.filter(org=org).select_related("agent", "issue")
        slug = request.query_params.get("agent")
        if slug:
            rows = rows.filter(agent=agent_ref(org, slug, "agent"))
        rows = rows.order_by(F("overall").asc(nulls_last=True), "-id")  # the worst scored first, unscored last
        return page.response(request, [evaluation_out(e) for e in page.slice(rows)])


class AuditRunOutput(serializers.Serializer):
    run_id = serializers.IntegerField()
    agent = serializers.CharField()
    status = serializers.CharField()


class AuditCollectionApi(MesaAPIView):
    @extend_schema(operation_id="audits_start", tags=TAGS, summary="Run an audit now (board keys)", request=None,
                   responses={201: AuditRunOutput, **error_responses(400, 403)})  # fmt: skip
    def post(self, request: Request) -> Response:
        self.require_board(request, "start an audit")
        run = audit_request(actor=self.actor(request), org=self.org(request))
        return Response(
            {"run_id": run.pk, "agent": run.agent.slug, "status": run.status}, status=status.HTTP_201_CREATED
        )

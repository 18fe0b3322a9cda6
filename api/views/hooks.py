"""Inbound hooks, their rules, and the pipeline log (board keys manage hooks and rules; any key reads the log)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Agent
from api.base import MesaAPIView
from api.errors import error_responses
from api.fields import StrictCharField, StrictInput, StrictIntegerField
from api.openapi import BODY_ERRORS
from api.pagination import CURSOR_PARAMETERS, CursorPage, cursor_envelope
from hooks.models import Hook, LogEntry, LogKind, Rule
from hooks.selectors import hook_get_for, hooks_for, log_for, rules_for
from hooks.services import hook_create, hook_rotate_secret, rule_create
from hooks.writeback import WriteBack, writeback
from orgs.errors import Forbidden, InvalidInput

TAGS = ["hooks"]


class HookOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    source = serializers.CharField(help_text="github, gitlab or generic.")  # type: ignore[assignment]  # (the field)
    path = serializers.CharField(help_text="POST here: /hooks/<org>/<source>/<id>.")
    secret_hint = serializers.CharField()
    secret = serializers.CharField(required=False, help_text="Only in the answer that created or rotated it.")


class HookCreateInput(StrictInput):
    name = StrictCharField(max_length=100)
    source = StrictCharField(help_text="github, gitlab or generic.")  # type: ignore[assignment]  # (the field)
    secret = StrictCharField(required=False, default="", max_length=200)
    signature_header = StrictCharField(required=False, default="", max_length=100)
    delivery_header = StrictCharField(required=False, default="", max_length=100)
    api_url = StrictCharField(required=False, default="", max_length=300, help_text="Forge API base URL.")
    token = StrictCharField(
        required=False, default="", max_length=500, help_text="Mesa's forge token (stored encrypted)."
    )
    rate_limit_per_minute = StrictIntegerField(required=False, default=60, min_value=1, max_value=10_000)


def hook_out(hook: Hook, secret: str = "") -> dict[str, Any]:
    out = {
        "id": hook.pk,
        "name": hook.name,
        "source": hook.source,
        "path": f"/hooks/{hook.org.slug}/{hook.source}/{hook.public_id}",
        "secret_hint": hook.secret_hint,
    }
    return {**out, "secret": secret} if secret else out


class HookCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="hooks_list",
        tags=TAGS,
        summary="List the org's inbound hooks (board keys)",
        responses={200: HookOutput(many=True), **error_responses(403)},
    )
    def get(self, request: Request) -> Response:
        self.require_board(request, "list hooks")
        return Response([hook_out(h) for h in hooks_for(self.org(request)).select_related("org")])

    @extend_schema(
        operation_id="hooks_create",
        tags=TAGS,
        summary="Create an inbound hook; the secret is shown once",
        request=HookCreateInput,
        responses={201: HookOutput, **error_responses(403, *BODY_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        data = self.input(request, HookCreateInput)
        hook, secret = hook_create(actor=self.actor(request), org=self.org(request), **data)
        return Response(hook_out(hook, secret), status=status.HTTP_201_CREATED)


class HookRotateApi(MesaAPIView):
    @extend_schema(
        operation_id="hooks_rotate",
        tags=TAGS,
        summary="Rotate a hook's secret (the old one stops at once)",
        request=None,
        responses={200: HookOutput, **error_responses(403, 404)},
    )
    def post(self, request: Request, hook_id: str) -> Response:
        self.require_board(request, "rotate hook secrets")
        if not hook_id.isdigit():
            raise InvalidInput("hook_id must be a number.", field="hook_id")
        hook = hook_get_for(self.org(request), int(hook_id))
        secret = hook_rotate_secret(actor=self.actor(request), hook=hook)
        return Response(hook_out(hook, secret))


class RuleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]  # (the field, not Field.source)
    events = serializers.ListField(child=serializers.CharField())
    filters = serializers.DictField()
    action = serializers.CharField()
    assignee = serializers.CharField(allow_null=True)


class RuleCreateInput(StrictInput):
    name = StrictCharField(max_length=100)
    source = StrictCharField(help_text="github, gitlab or generic.")  # type: ignore[assignment]  # (the field)
    events = serializers.ListField(child=StrictCharField(max_length=100), min_length=1)
    filters = serializers.DictField(required=False, default=dict)
    action = StrictCharField(required=False, default="create_issue")
    title_template = StrictCharField(required=False, default="", max_length=500)
    body_template = StrictCharField(required=False, default="", max_length=20_000)
    assignee = StrictCharField(required=False, default="", help_text="Agent slug.")
    labels = serializers.ListField(child=StrictCharField(max_length=50), required=False, default=list)
    priority = StrictIntegerField(required=False, default=0, min_value=0, max_value=4)
    position = StrictIntegerField(required=False, default=None, min_value=0)
    hydrate = serializers.BooleanField(required=False, default=False)


def rule_out(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.pk, "name": rule.name, "position": rule.position, "source": rule.source, "events": rule.events,
        "filters": rule.filters, "action": rule.action, "assignee": rule.assignee.slug if rule.assignee else None,
    }  # fmt: skip


class RuleCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="hook_rules_list",
        tags=TAGS,
        summary="List the org's rules in order",
        responses={200: RuleOutput(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        return Response([rule_out(r) for r in rules_for(self.org(request))])

    @extend_schema(
        operation_id="hook_rules_create",
        tags=TAGS,
        summary="Add a rule (board keys)",
        request=RuleCreateInput,
        responses={201: RuleOutput, **error_responses(403, *BODY_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        org = self.org(request)
        data = self.input(request, RuleCreateInput)
        slug = data.pop("assignee")
        assignee = Agent.objects.filter(org=org, slug=slug.lower()).first() if slug else None
        if slug and assignee is None:
            raise InvalidInput(f"No agent {slug!r} in this org.", field="assignee")
        rule = rule_create(actor=self.actor(request), org=org, assignee=assignee, **data)
        return Response(rule_out(rule), status=status.HTTP_201_CREATED)


class LogOutput(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=LogKind.values)
    message = serializers.CharField()
    hook = serializers.IntegerField(allow_null=True)
    delivery = serializers.IntegerField(allow_null=True)
    rule = serializers.IntegerField(allow_null=True)
    agent = serializers.CharField(allow_null=True)
    issue = serializers.CharField(allow_null=True)
    data = serializers.DictField()  # type: ignore[assignment]  # (the field, not Serializer.data)


def log_out(e: LogEntry) -> dict[str, Any]:
    return {
        "id": e.pk, "at": e.created_at, "kind": e.kind, "message": e.message, "hook": e.hook_id,
        "delivery": e.delivery_id, "rule": e.rule_id, "agent": e.agent.slug if e.agent else None,
        "issue": e.issue.key if e.issue else None, "data": e.data,
    }  # fmt: skip


_LOG_FILTERS = {"hook": "hook_id", "rule": "rule_id", "delivery": "delivery_id"}


class LogsApi(MesaAPIView):
    @extend_schema(
        operation_id="logs_list",
        tags=TAGS,
        summary="The pipeline log, newest first: deliveries, rules, issues, policy decisions, write-backs",
        parameters=[
            OpenApiParameter("hook", OpenApiTypes.INT),
            OpenApiParameter("rule", OpenApiTypes.INT),
            OpenApiParameter("delivery", OpenApiTypes.INT),
            OpenApiParameter("agent", OpenApiTypes.STR),
            OpenApiParameter("issue", OpenApiTypes.STR),
            OpenApiParameter("kind", OpenApiTypes.STR),
            OpenApiParameter("since", OpenApiTypes.DATETIME),
            *CURSOR_PARAMETERS,
        ],  # fmt: skip
        responses={200: cursor_envelope(LogOutput), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        qs = log_for(self.org(request))
        params = request.query_params
        for name, column in _LOG_FILTERS.items():
            raw = params.get(name, "").strip()
            if raw:
                if not raw.isdigit():
                    raise InvalidInput(f"{name} must be a number.", field=name)
                qs = qs.filter(**{column: int(raw)})
        if params.get("agent"):
            qs = qs.filter(agent__slug=params["agent"].strip().lower())
        if params.get("issue"):
            qs = qs.filter(issue__key=params["issue"].strip().upper())
        kinds = [k for k in params.get("kind", "").split(",") if k]
        unknown = set(kinds) - set(LogKind.values)
        if unknown:
            raise InvalidInput(
                f"Unknown kind {sorted(unknown)[0]!r}; kinds are {', '.join(LogKind.values)}.", field="kind"
            )
        if kinds:
            qs = qs.filter(kind__in=kinds)
        if params.get("since"):
            since = serializers.DateTimeField().to_internal_value(params["since"])
            qs = qs.filter(created_at__gte=since)
        page = CursorPage.from_request(request)
        return page.response(request, [log_out(e) for e in page.slice(qs)])


class WriteBackInput(StrictInput):
    kind = StrictCharField(help_text="comment, labels, status or suggestion.")
    source = StrictCharField(help_text="github or gitlab.")  # type: ignore[assignment]  # (the field)
    repo = StrictCharField(max_length=300, help_text="owner/name (GitLab: the project path).")
    number = StrictIntegerField(required=False, default=0, min_value=0)
    on = StrictCharField(required=False, default="pr", help_text="pr or issue.")
    body = StrictCharField(required=False, default="", max_length=100_000, allow_blank=True)
    add_labels = serializers.ListField(child=StrictCharField(max_length=100), required=False, default=list)
    remove_labels = serializers.ListField(child=StrictCharField(max_length=100), required=False, default=list)
    sha = StrictCharField(required=False, default="", max_length=64)
    state = StrictCharField(required=False, default="", max_length=20)
    context = StrictCharField(required=False, default="mesa", max_length=100)  # type: ignore[assignment]  # (the field)
    path = StrictCharField(required=False, default="", max_length=500)
    line = StrictIntegerField(required=False, default=0, min_value=0)
    suggestion = StrictCharField(required=False, default="", max_length=20_000, allow_blank=True)


class WriteBackOutput(serializers.Serializer):
    url = serializers.CharField(allow_blank=True)


class WriteBackApi(MesaAPIView):
    @extend_schema(
        operation_id="writeback",
        tags=TAGS,
        summary="Write back to GitHub / GitLab through Mesa (agent keys; the output policy decides first)",
        description="Mesa acts with its own token. A request the agent's output policy denies answers 403 "
        "with `code` policy_denied and `rule` naming the rule; every decision is in the pipeline log.",
        request=WriteBackInput,
        responses={200: WriteBackOutput, **error_responses(403, 502, *BODY_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        agent = self.actor(request).agent
        if agent is None:
            raise Forbidden("Write-back is for agent keys: the policy is an agent's.", code="agent_only")
        data = self.input(request, WriteBackInput)
        return Response(writeback(agent=agent, req=WriteBack(**data)))

"""Agents: list, me, get, heartbeat; board keys also create, update, pause and resume."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Agent
from agents.selectors import is_ceo
from agents.services import agent_create, agent_heartbeat, agent_resume, agent_update
from api.base import MesaAPIView
from api.errors import error_responses
from api.openapi import BODY_ERRORS
from api.pagination import PAGE_PARAMETERS, Page, envelope
from api.serializers.agents import (
    AgentCreateInput,
    AgentDetailOutput,
    AgentOutput,
    AgentPauseInput,
    AgentUpdateInput,
    HeartbeatInput,
    HeartbeatOutput,
    agent_out,
)
from api.serializers.approvals import ApprovalOutput, approval_out
from api.serializers.issues import iso
from api.views._lookups import agent_ref
from approvals.hiring import agent_hire_propose
from orgs.errors import InvalidInput, NotFound
from orgs.models import Org
from runners.services import agent_pause_runs

TAGS = ["agents"]


def _slugs(org: Org) -> dict[int, str]:
    return dict(Agent.objects.filter(org=org).values_list("id", "slug"))


def _agent_get(org: Org, slug: str) -> Agent:
    agent = Agent.objects.select_related("org").filter(org=org, slug=slug.lower()).first()
    if agent is None:
        raise NotFound(f"There is no agent {slug!r}.")
    return agent


def _config(org: Org, data: dict[str, Any]) -> dict[str, Any]:
    """Validated input → agent service kwargs (slugs resolved to agents)."""
    config = dict(data)
    for field in ("reports_to", "review_agent"):
        if field in config:
            config[field] = agent_ref(org, config[field], field)
    return config


class AgentCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="agents_list",
        tags=TAGS,
        summary="List the org's agents",
        parameters=PAGE_PARAMETERS,
        responses={200: envelope(AgentOutput), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        org = self.org(request)
        page = Page.from_request(request)
        agents = list(Agent.objects.filter(org=org).order_by("slug"))
        slugs = {a.pk: a.slug for a in agents}
        rows = [agent_out(a, slugs) for a in page.slice_list(agents)]
        return page.response(request, rows)

    @extend_schema(
        operation_id="agents_create",
        tags=TAGS,
        summary="Create an agent (board keys), or propose a hire (the CEO: 202 with a pending approval)",
        description=(
            "A board key creates the agent at once (201). The CEO's key proposes the hire instead: the answer is "
            "202 with a pending `agent_add` approval, and approving it creates the agent exactly as asked. Other "
            "agents get 403."
        ),
        request=AgentCreateInput,
        responses={
            201: AgentDetailOutput,
            202: ApprovalOutput,
            **error_responses(400, 403, 409, 413, 415),
        },
    )
    def post(self, request: Request) -> Response:
        actor, org = self.actor(request), self.org(request)
        if actor.agent is not None and is_ceo(actor.agent):
            approval = agent_hire_propose(actor=actor, org=org, spec=self.input(request, AgentCreateInput))
            return Response(approval_out(approval), status=status.HTTP_202_ACCEPTED)
        self.require_board(request, "create agents; the CEO may propose a hire")
        data = self.input(request, AgentCreateInput)
        slug = data.pop("slug")
        agent = agent_create(actor=actor, org=org, slug=slug, **_config(org, data))
        return Response(agent_out(agent, _slugs(org), detail=True), status=status.HTTP_201_CREATED)


class AgentMeApi(MesaAPIView):
    @extend_schema(
        operation_id="agents_me",
        tags=TAGS,
        summary="The calling agent (agent and run keys)",
        responses={200: AgentDetailOutput, **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        agent = self.actor(request).agent
        if agent is None:
            raise InvalidInput("A board key belongs to no agent; use GET /api/v1/agents.", code="not_an_agent")
        return Response(agent_out(agent, _slugs(agent.org), detail=True))


class AgentApi(MesaAPIView):
    @extend_schema(
        operation_id="agents_get",
        tags=TAGS,
        summary="One agent",
        responses={200: AgentDetailOutput, **error_responses(404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        org = self.org(request)
        return Response(agent_out(_agent_get(org, slug), _slugs(org), detail=True))

    @extend_schema(
        operation_id="agents_update",
        tags=TAGS,
        summary="Change an agent's configuration or budgets (board keys only; every change is versioned)",
        request=AgentUpdateInput,
        responses={200: AgentDetailOutput, **error_responses(400, 403, 404, 413, 415)},
    )
    def patch(self, request: Request, slug: str) -> Response:
        self.require_board(request, "change agents")
        org = self.org(request)
        agent = _agent_get(org, slug)
        data = self.input(request, AgentUpdateInput)
        note = data.pop("note", "")
        agent = agent_update(actor=self.actor(request), agent=agent, note=note, **_config(org, data))
        return Response(agent_out(agent, _slugs(org), detail=True))


class AgentPauseApi(MesaAPIView):
    @extend_schema(
        operation_id="agents_pause",
        tags=TAGS,
        summary="Pause an agent: no new runs start for it (board keys only)",
        description="Optional body {stop_current: true} also cancels its queued and running runs; "
        "by default a running run finishes its work.",
        request=AgentPauseInput,
        responses={200: AgentDetailOutput, **error_responses(403, 404, *BODY_ERRORS)},
    )
    def post(self, request: Request, slug: str) -> Response:
        self.require_board(request, "pause agents")
        org = self.org(request)
        data = self.input(request, AgentPauseInput)
        agent = agent_pause_runs(
            actor=self.actor(request), agent=_agent_get(org, slug), stop_current=data["stop_current"]
        )
        return Response(agent_out(agent, _slugs(org), detail=True))


class AgentResumeApi(MesaAPIView):
    @extend_schema(
        operation_id="agents_resume",
        tags=TAGS,
        summary="Resume a paused agent (board keys only)",
        request=None,
        responses={200: AgentDetailOutput, **error_responses(403, 404)},
    )
    def post(self, request: Request, slug: str) -> Response:
        self.require_board(request, "resume agents")
        org = self.org(request)
        agent = agent_resume(actor=self.actor(request), agent=_agent_get(org, slug))
        return Response(agent_out(agent, _slugs(org), detail=True))


class HeartbeatApi(MesaAPIView):
    @extend_schema(
        operation_id="heartbeat",
        tags=TAGS,
        summary="Report that you are alive and what you are doing",
        request=HeartbeatInput,
        responses={200: HeartbeatOutput, **error_responses(400, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        agent = self.actor(request).agent
        if agent is None:
            raise InvalidInput("Heartbeats come from agents; a board key belongs to no agent.", code="not_an_agent")
        data = self.input(request, HeartbeatInput)
        agent = agent_heartbeat(agent=agent, note=data["note"])
        return Response(
            {"slug": agent.slug, "last_seen_at": iso(agent.last_seen_at), "last_seen_note": agent.last_seen_note}
        )

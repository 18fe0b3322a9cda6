"""Terminal bindings: attach an agent or a human to a running run's terminal (observe / drive), list, end."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from agents.selectors import agent_ref
from api.base import MesaAPIView
from api.errors import error_responses
from api.openapi import BODY_ERRORS, id_parameter
from api.serializers.bindings import BindingCreateInput, BindingEndInput, BindingOutput, binding_out
from runners.bindings import binding_end, binding_get_for, binding_grant, bindings_for_run
from runners.selectors import run_get_for

TAGS = ["runs"]
RUN_ID = id_parameter("run_id", "run")
BINDING_ID = id_parameter("binding_id", "binding")


class RunBindingsApi(MesaAPIView):
    """The run's bindings as a collection (like IssueCollectionApi): GET lists, POST attaches."""

    @extend_schema(
        operation_id="runs_bindings_list",
        tags=TAGS,
        summary="Who is (and was) attached to a run's terminal",
        parameters=[RUN_ID],
        responses={200: BindingOutput(many=True), **error_responses(404)},
    )
    def get(self, request: Request, run_id: str) -> Response:
        run = run_get_for(actor=self.actor(request), org=self.org(request), run_id=run_id)
        return Response([binding_out(b) for b in bindings_for_run(run)])

    @extend_schema(
        operation_id="runs_bindings_create",
        tags=TAGS,
        summary="Attach an agent or a user to a running run's terminal (board keys and the agent's managers)",
        description=(
            "`observe` reads the terminal, `drive` also types into it (connect to `websocket` with the same "
            "Authorization header). Granted by board keys or the run's agent's managers up to the CEO (else 403); "
            "an agent that names nobody attaches itself. A run that is not running is a 409. The binding ends "
            "when the run ends."
        ),
        parameters=[RUN_ID],
        request=BindingCreateInput,
        responses={201: BindingOutput, **error_responses(403, 404, 409, *BODY_ERRORS)},
    )
    def post(self, request: Request, run_id: str) -> Response:
        actor, org = self.actor(request), self.org(request)
        run = run_get_for(actor=actor, org=org, run_id=run_id)
        data = self.input(request, BindingCreateInput)
        binding = binding_grant(
            actor=actor,
            run=run,
            mode=data["mode"],
            agent=agent_ref(org, data["agent"], "agent"),
            username=data["user"],
        )
        return Response(binding_out(binding), status=status.HTTP_201_CREATED)


class BindingEndApi(MesaAPIView):
    @extend_schema(
        operation_id="bindings_end",
        tags=TAGS,
        summary="End a terminal binding (its grantors, or its holder leaving)",
        parameters=[BINDING_ID],
        request=BindingEndInput,
        responses={200: BindingOutput, **error_responses(403, 404, 409, *BODY_ERRORS)},
    )
    def post(self, request: Request, binding_id: str) -> Response:
        actor = self.actor(request)
        binding = binding_get_for(actor=actor, org=self.org(request), binding_id=binding_id)
        data = self.input(request, BindingEndInput)
        return Response(binding_out(binding_end(actor=actor, binding=binding, reason=data["reason"])))

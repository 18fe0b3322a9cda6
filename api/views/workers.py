"""Persistent workers, read-only: what the org's workers are and whether they answer.

Adding, starting, stopping and removing a worker runs code on the Mesa machine: that is the instance operator's
alone (``manage.py worker``, Settings › Runners), never an API key's. This endpoint only reads.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import MesaAPIView
from api.errors import error_responses
from api.pagination import PAGE_PARAMETERS, Page, envelope
from api.serializers.issues import iso
from runners.models import Worker, WorkerStatus
from runners.workers import workers_visible

TAGS = ["workers"]


class WorkerOutput(serializers.Serializer):
    name = serializers.CharField()
    agent = serializers.CharField(help_text="The agent's slug: its runs exec into this worker while it runs.")
    image = serializers.CharField(help_text="Empty: the agent's container image, else MESA_WORKER_IMAGE.")
    status = serializers.ChoiceField(choices=WorkerStatus.choices)
    health = serializers.CharField(help_text='The last health answer: "healthy", or why not.')
    health_at = serializers.CharField(allow_null=True, help_text="When it was asked (UTC), or null.")
    last_error = serializers.CharField(help_text="Why the last start or restart failed (empty when it did not).")
    cpus = serializers.FloatField()
    memory = serializers.CharField()
    pids = serializers.IntegerField()


def worker_out(worker: Worker) -> dict[str, Any]:
    """A worker as the API shows it: no container id, no env references (names of the org's secrets)."""
    return {
        "name": worker.name,
        "agent": worker.agent.slug,
        "image": worker.image,
        "status": worker.status,
        "health": worker.last_health,
        "health_at": iso(worker.last_health_at),
        "last_error": worker.last_error,
        "cpus": worker.cpus,
        "memory": worker.memory,
        "pids": worker.pids,
    }


class WorkerCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="workers_list",
        tags=TAGS,
        summary="List the org's persistent workers (read-only; an agent key sees its own)",
        description=(
            "Board keys see the org's workers, an agent key only its own agent's. Nothing here adds, starts, "
            "stops or removes a worker: that runs code on the Mesa machine and is the instance operator's "
            "(`manage.py worker`, Settings › Runners)."
        ),
        parameters=PAGE_PARAMETERS,
        responses={200: envelope(WorkerOutput), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        page = Page.from_request(request)
        workers = list(workers_visible(actor=self.actor(request), org=self.org(request)))
        return page.response(request, [worker_out(w) for w in page.slice_list(workers)])

"""Labels: anyone in the org may list and create them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import MesaAPIView
from api.errors import error_responses
from api.fields import StrictCharField, StrictInput
from api.pagination import PAGE_PARAMETERS, Page, envelope
from issues.labels import label_create
from issues.models import Label


class LabelOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField(help_text="Hex colour like #e5484d.")


class LabelCreateInput(StrictInput):
    name = StrictCharField(max_length=50)
    color = StrictCharField(required=False, default="#8b8d98")


class LabelCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="labels_list",
        tags=["labels"],
        summary="List labels",
        parameters=PAGE_PARAMETERS,
        responses={200: envelope(LabelOutput), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        page = Page.from_request(request)
        rows = page.slice(
            Label.objects.filter(org=self.org(request), archived_at__isnull=True)
            .order_by("name")
            .values("id", "name", "color")
        )
        return page.response(request, rows)

    @extend_schema(
        operation_id="labels_create",
        tags=["labels"],
        summary="Create a label",
        request=LabelCreateInput,
        responses={201: LabelOutput, **error_responses(400, 409, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        data = self.input(request, LabelCreateInput)
        label = label_create(actor=self.actor(request), org=self.org(request), name=data["name"], color=data["color"])
        return Response({"id": label.pk, "name": label.name, "color": label.color}, status=status.HTTP_201_CREATED)

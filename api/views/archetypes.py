"""Archetypes (the role texts agents run with) and proposed changes to them."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import MesaAPIView
from api.errors import error_responses
from api.openapi import BODY_ERRORS, status_filter, status_parameter, text_parameter
from api.pagination import PAGE_PARAMETERS, Page, envelope
from api.serializers.archetypes import (
    ArchetypeDetailOutput,
    ArchetypeOutput,
    ArchetypePatchCreateInput,
    ArchetypePatchOutput,
    archetype_out,
    archetype_patch_out,
)
from archetypes.loader import archetype_get, archetype_list
from archetypes.models import ArchetypePatch, PatchStatus
from archetypes.services import archetype_patch_create, archetype_patch_rollback
from orgs.errors import NotFound

TAGS = ["archetypes"]


class ArchetypeCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="archetypes_list",
        tags=TAGS,
        summary="List the role archetypes (without their text)",
        parameters=PAGE_PARAMETERS,
        responses={200: envelope(ArchetypeOutput), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        page = Page.from_request(request)
        rows = page.slice_list(archetype_list(self.org(request)))
        return page.response(request, [archetype_out(a) for a in rows])


class ArchetypeApi(MesaAPIView):
    @extend_schema(
        operation_id="archetypes_get",
        tags=TAGS,
        summary="Get an archetype's text",
        parameters=[text_parameter("slug", "The archetype slug, e.g. qa.")],
        responses={200: ArchetypeDetailOutput, **error_responses(404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        archetype = archetype_get(slug, self.org(request))
        if archetype is None:
            raise NotFound(f"There is no archetype {slug!r}.")
        return Response(archetype_out(archetype, with_text=True))


class ArchetypePatchCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="archetype_patches_list",
        tags=TAGS,
        summary="List proposed archetype changes, newest first",
        parameters=[
            status_parameter(PatchStatus.values),
            OpenApiParameter("archetype", OpenApiTypes.STR, description="Only patches of this archetype slug."),
            *PAGE_PARAMETERS,
        ],
        responses={200: envelope(ArchetypePatchOutput), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        page = Page.from_request(request)
        qs = ArchetypePatch.objects.filter(org=self.org(request)).prefetch_related("approvals")
        statuses = status_filter(request, PatchStatus.values)
        if statuses:
            qs = qs.filter(status__in=statuses)
        archetype = request.query_params.get("archetype", "").strip()
        if archetype:
            qs = qs.filter(archetype=archetype)
        rows = page.slice(qs.order_by("-created_at", "-id"))
        return page.response(request, [archetype_patch_out(p) for p in rows])

    @extend_schema(
        operation_id="archetype_patches_create",
        tags=TAGS,
        summary="Propose a new text for an archetype (a human approves it)",
        description="Creates the patch and an approval of kind archetype_patch; approving it writes the new text.",
        request=ArchetypePatchCreateInput,
        responses={201: ArchetypePatchOutput, **error_responses(*BODY_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        org, actor = self.org(request), self.actor(request)
        data = self.input(request, ArchetypePatchCreateInput)
        patch = archetype_patch_create(
            actor=actor,
            org=org,
            archetype=data["archetype"],
            proposed_text=data["proposed_text"],
            reason=data["reason"],
        )
        return Response(archetype_patch_out(patch), status=status.HTTP_201_CREATED)


class ArchetypePatchRollbackApi(MesaAPIView):
    @extend_schema(
        operation_id="archetype_patches_rollback",
        tags=TAGS,
        summary="Undo an approved archetype patch (humans only)",
        description="Restores the text the patch replaced for this org; 409 when the patch is not approved.",
        request=None,
        responses={200: ArchetypePatchOutput, **error_responses(403, 404, 409)},
    )
    def post(self, request: Request, patch_id: str) -> Response:
        org, actor = self.org(request), self.actor(request)
        patch = ArchetypePatch.objects.filter(org=org, pk=int(patch_id) if patch_id.isdigit() else 0).first()
        if patch is None:
            raise NotFound(f"There is no archetype patch {patch_id!r}.")
        return Response(archetype_patch_out(archetype_patch_rollback(actor=actor, patch=patch)))

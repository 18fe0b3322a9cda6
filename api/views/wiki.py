"""The wiki: pages every agent and human of the org may read and write, with revisions and search."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.base import MesaAPIView
from api.errors import error_responses
from api.openapi import BODY_ERRORS, text_parameter
from api.pagination import PAGE_PARAMETERS, Page, envelope
from api.serializers.wiki import (
    WikiPageCreateInput,
    WikiPageListItemOutput,
    WikiPageOutput,
    WikiPageUpdateInput,
    WikiRevisionOutput,
    WikiSearchHitOutput,
)
from orgs.errors import InvalidInput
from wiki.models import WikiPage
from wiki.search import wiki_search
from wiki.selectors import wiki_page_get_for
from wiki.services import wiki_page_create, wiki_page_delete, wiki_page_restore, wiki_page_update

TAGS = ["wiki"]
SLUG = text_parameter("slug", "The page slug.")
SEARCH_DEFAULT_LIMIT = 20
SEARCH_MAX_LIMIT = 100
MAX_QUERY = 500


class WikiCollectionApi(MesaAPIView):
    @extend_schema(
        operation_id="wiki_list",
        tags=TAGS,
        summary="List wiki pages by title (without their content)",
        parameters=PAGE_PARAMETERS,
        responses={200: envelope(WikiPageListItemOutput), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        page = Page.from_request(request)
        qs = (
            WikiPage.objects.filter(org=self.org(request), deleted_at__isnull=True)
            .defer("content")
            .order_by("title", "id")
        )
        rows = page.slice(qs)
        return page.response(request, list(WikiPageListItemOutput(rows, many=True).data))

    @extend_schema(
        operation_id="wiki_create",
        tags=TAGS,
        summary="Create a wiki page (slug from the title unless given)",
        description="A page with the same slug is a 409 `duplicate` (with `slug`).",
        request=WikiPageCreateInput,
        responses={201: WikiPageOutput, **error_responses(*BODY_ERRORS, 409)},
    )
    def post(self, request: Request) -> Response:
        data = self.input(request, WikiPageCreateInput)
        wiki_page = wiki_page_create(
            actor=self.actor(request),
            org=self.org(request),
            title=data["title"],
            content=data["content"],
            slug=data["slug"],
        )
        return Response(WikiPageOutput(wiki_page).data, status=status.HTTP_201_CREATED)


class WikiSearchApi(MesaAPIView):
    @extend_schema(
        operation_id="wiki_search",
        tags=TAGS,
        summary="Search the wiki: ranked full text with prefix matching, plus typo-tolerant title matching",
        description=(
            "Every word of `q` must match a word of the page as a prefix (`deplo` finds Deployment), ranked by "
            "relevance; titles and slugs also match with a typo or two (`deplyoment`). Best first."
        ),
        parameters=[
            OpenApiParameter(
                "q",
                {"type": "string", "minLength": 1, "maxLength": MAX_QUERY, "pattern": r"\S"},
                required=True,
                description="The words to look for.",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": SEARCH_MAX_LIMIT},
                description=f"Results per page, 1..{SEARCH_MAX_LIMIT} (default {SEARCH_DEFAULT_LIMIT}).",
            ),
            OpenApiParameter("offset", {"type": "integer", "minimum": 0}, description="Results to skip (default 0)."),
        ],
        responses={200: envelope(WikiSearchHitOutput), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        q = request.query_params.get("q", "").strip()
        if not q:
            raise InvalidInput("Say what to look for: ?q=words.", field="q")
        if len(q) > MAX_QUERY:
            raise InvalidInput(f"q is at most {MAX_QUERY} characters.", field="q")
        page = Page.from_request(request, default_limit=SEARCH_DEFAULT_LIMIT, max_limit=SEARCH_MAX_LIMIT)
        hits = page.slice_list(wiki_search(org=self.org(request), q=q))
        return page.response(request, list(WikiSearchHitOutput(hits, many=True).data))


class WikiPageApi(MesaAPIView):
    @extend_schema(
        operation_id="wiki_get",
        tags=TAGS,
        summary="Get a wiki page with its content",
        parameters=[SLUG],
        responses={200: WikiPageOutput, **error_responses(404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        wiki_page = wiki_page_get_for(actor=self.actor(request), org=self.org(request), slug=slug)
        return Response(WikiPageOutput(wiki_page).data)

    @extend_schema(
        operation_id="wiki_update",
        tags=TAGS,
        summary="Edit a wiki page (the old text stays as a revision)",
        description="Send `base_revision` (the page's `revision` when you read it) to get a 409 `stale` "
        "instead of overwriting someone else's edit.",
        parameters=[SLUG],
        request=WikiPageUpdateInput,
        responses={200: WikiPageOutput, **error_responses(*BODY_ERRORS, 404, 409)},
    )
    def patch(self, request: Request, slug: str) -> Response:
        actor = self.actor(request)
        wiki_page = wiki_page_get_for(actor=actor, org=self.org(request), slug=slug)
        data = self.input(request, WikiPageUpdateInput)
        wiki_page = wiki_page_update(actor=actor, page=wiki_page, **data)
        return Response(WikiPageOutput(wiki_page).data)

    @extend_schema(
        operation_id="wiki_delete",
        tags=TAGS,
        summary="Delete a wiki page (board, CEO or author; soft: revisions stay, POST .../restore undoes it)",
        parameters=[SLUG],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(403, 404, 409)},
    )
    def delete(self, request: Request, slug: str) -> Response:
        actor = self.actor(request)
        wiki_page = wiki_page_get_for(actor=actor, org=self.org(request), slug=slug)
        wiki_page_delete(actor=actor, page=wiki_page)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WikiRestoreApi(MesaAPIView):
    @extend_schema(
        operation_id="wiki_restore",
        tags=TAGS,
        summary="Restore a deleted wiki page (board, CEO or author)",
        parameters=[SLUG],
        request=None,
        responses={200: WikiPageOutput, **error_responses(403, 404, 409)},
    )
    def post(self, request: Request, slug: str) -> Response:
        actor = self.actor(request)
        wiki_page = wiki_page_get_for(actor=actor, org=self.org(request), slug=slug, deleted=True)
        return Response(WikiPageOutput(wiki_page_restore(actor=actor, page=wiki_page)).data)


class WikiRevisionsApi(MesaAPIView):
    @extend_schema(
        operation_id="wiki_revisions",
        tags=TAGS,
        summary="A page's revisions, newest first (1 = as created)",
        parameters=[SLUG, *PAGE_PARAMETERS],
        responses={200: envelope(WikiRevisionOutput), **error_responses(400, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        wiki_page = wiki_page_get_for(actor=self.actor(request), org=self.org(request), slug=slug)
        page = Page.from_request(request)
        rows = page.slice(wiki_page.revisions.order_by("-number"))
        return page.response(request, list(WikiRevisionOutput(rows, many=True).data))

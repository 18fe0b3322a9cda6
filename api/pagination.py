"""The list envelopes of the API: offset pages (every list) and cursor pages (runs, see ``CursorPage``).

Every list endpoint answers::

    {"results": [...], "count": <total matching>, "limit": <L>, "offset": <O>, "next": <url or null>}

``results`` is ``[]`` when nothing matches (never null). ``?limit=`` (1..MAX_LIMIT,
default DEFAULT_LIMIT) and ``?offset=`` (>= 0, default 0) page through it; ``next``
is the absolute URL of the following page, or null on the last one. Bad values
are a 400 naming ``limit`` / ``offset``.

Usage in a view::

    page = Page.from_request(request)
    rows = page.slice(queryset)            # runs one COUNT and one SELECT ... LIMIT/OFFSET
    return page.response(request, SomeOutput(rows, many=True).data)

or, for an in-memory list, ``page.slice_list(items)``. For schema annotations use
``envelope(SomeOutput)`` which builds the envelope serializer of one item type.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from orgs.errors import InvalidInput

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# Beyond any real list; keeps the number inside what every database accepts.
MAX_OFFSET = 10_000_000

T = TypeVar("T")


def _int_param(request: Request, name: str, default: int, lo: int, hi: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw) if len(raw) <= 12 else -1
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number.", field=name) from None
    if value < lo or (hi is not None and value > hi):
        bounds = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise InvalidInput(f"{name} must be {bounds}.", field=name)
    return value


@dataclass
class Page:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    count: int = 0
    _has_next: bool = field(default=False, repr=False)

    @classmethod
    def from_request(cls, request: Request, *, default_limit: int = DEFAULT_LIMIT, max_limit: int = MAX_LIMIT) -> Page:
        return cls(
            limit=_int_param(request, "limit", default_limit, 1, max_limit),
            offset=_int_param(request, "offset", 0, 0, MAX_OFFSET),
        )

    def slice(self, queryset: QuerySet[Any]) -> list[Any]:
        """The rows of this page; sets ``count`` (one COUNT query, skipped when the page is not full)."""
        rows = list(queryset[self.offset : self.offset + self.limit])
        self.settle(len(rows), queryset.count)
        return rows

    def settle(self, fetched: int, count: Callable[[], int]) -> None:
        """Set ``count`` and ``next`` after fetching ``fetched`` rows of this page yourself.

        ``count()`` runs only when needed: a short, non-empty page (or an empty first
        page) already tells the total.
        """
        if fetched < self.limit and (fetched or self.offset == 0):
            self.count = self.offset + fetched
        else:
            self.count = count()
        self._has_next = self.offset + fetched < self.count

    def slice_list(self, items: Sequence[T]) -> list[T]:
        self.count = len(items)
        rows = list(items[self.offset : self.offset + self.limit])
        self._has_next = self.offset + len(rows) < self.count
        return rows

    def next_url(self, request: Request) -> str | None:
        if not self._has_next:
            return None
        params = request.query_params.copy()
        params["limit"] = str(self.limit)
        params["offset"] = str(self.offset + self.limit)
        return request.build_absolute_uri(request.path) + "?" + urlencode(params, doseq=True)

    def body(self, request: Request, results: list[Any]) -> dict[str, Any]:
        return {
            "results": list(results),
            "count": self.count,
            "limit": self.limit,
            "offset": self.offset,
            "next": self.next_url(request),
        }

    def response(self, request: Request, results: list[Any]) -> Response:
        return Response(self.body(request, results))


_envelopes: dict[str, type[serializers.Serializer[Any]]] = {}


def envelope(item: type[serializers.BaseSerializer[Any]], name: str | None = None) -> type[serializers.Serializer[Any]]:
    """The envelope serializer (for drf-spectacular) of a list of ``item``; one class per item type."""
    name = name or f"{item.__name__.removesuffix('Serializer').removesuffix('Output')}List"
    if name not in _envelopes:
        _envelopes[name] = type(
            name,
            (serializers.Serializer,),
            {
                "results": item(many=True),
                "count": serializers.IntegerField(help_text="How many rows match in total."),
                "limit": serializers.IntegerField(),
                "offset": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True, help_text="The next page, or null on the last one."),
                "__module__": __name__,
            },
        )
    return _envelopes[name]


# drf-spectacular parameters for paginated endpoints: ``extend_schema(parameters=PAGE_PARAMETERS)``.
def _page_parameters() -> list[Any]:
    # Only the schema generation needs drf-spectacular's helpers: keep them off the request path's imports.
    from drf_spectacular.utils import OpenApiParameter

    return [
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            description=f"Page size, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT}).",
        ),
        OpenApiParameter("offset", {"type": "integer", "minimum": 0}, description="Rows to skip (default 0)."),
    ]


PAGE_PARAMETERS = _page_parameters()


@dataclass
class CursorPage:
    """Keyset paging, newest first, for lists that grow while they are read (runs).

    Answers ``{"results": [...], "limit": <L>, "next_cursor": <str or null>, "next": <url or null>}``:
    ``?cursor=`` takes the ``next_cursor`` of the previous page (opaque; today the last id seen), so
    rows added meanwhile never shift a page, and no COUNT runs. ``?limit=`` as in :class:`Page`.
    """

    limit: int = DEFAULT_LIMIT
    cursor: int | None = None
    next_cursor: str | None = None

    @classmethod
    def from_request(cls, request: Request) -> CursorPage:
        raw = request.query_params.get("cursor", "")
        cursor = None
        if raw:
            cursor = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 19 else 0
            if cursor < 1:
                raise InvalidInput("cursor must be a next_cursor value from an earlier page.", field="cursor")
        return cls(limit=_int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT), cursor=cursor)

    def slice(self, queryset: QuerySet[Any]) -> list[Any]:
        """The rows of this page (``queryset`` must not be ordered yet): one SELECT of limit + 1 rows."""
        if self.cursor is not None:
            queryset = queryset.filter(pk__lt=self.cursor)
        rows = list(queryset.order_by("-pk")[: self.limit + 1])
        more = len(rows) > self.limit
        rows = rows[: self.limit]
        self.next_cursor = str(rows[-1].pk) if more and rows else None
        return rows

    def body(self, request: Request, results: list[Any]) -> dict[str, Any]:
        next_url = None
        if self.next_cursor is not None:
            params = request.query_params.copy()
            params["cursor"] = self.next_cursor
            params["limit"] = str(self.limit)
            next_url = request.build_absolute_uri(request.path) + "?" + urlencode(params, doseq=True)
        return {"results": list(results), "limit": self.limit, "next_cursor": self.next_cursor, "next": next_url}

    def response(self, request: Request, results: list[Any]) -> Response:
        return Response(self.body(request, results))


def cursor_envelope(item: type[serializers.BaseSerializer[Any]]) -> type[serializers.Serializer[Any]]:
    """The cursor-paged envelope serializer (for drf-spectacular) of a list of ``item``."""
    name = f"{item.__name__.removesuffix('Output')}CursorList"
    if name not in _envelopes:
        _envelopes[name] = type(
            name,
            (serializers.Serializer,),
            {
                "results": item(many=True),
                "limit": serializers.IntegerField(),
                "next_cursor": serializers.CharField(
                    allow_null=True, help_text="Pass as ?cursor= for the next page; null on the last one."
                ),
                "next": serializers.URLField(allow_null=True, help_text="The next page, or null on the last one."),
                "__module__": __name__,
            },
        )
    return _envelopes[name]


def _cursor_parameters() -> list[Any]:
    # Only the schema generation needs drf-spectacular's helpers: keep them off the request path's imports.
    from drf_spectacular.utils import OpenApiParameter

    return [
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            description=f"Page size, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT}).",
        ),
        OpenApiParameter("cursor", {"type": "string"}, description="next_cursor of the previous page."),
    ]


CURSOR_PARAMETERS = _cursor_parameters()

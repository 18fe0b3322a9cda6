"""The one list envelope of the API.

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

"""Live routes: the SSE stream and the command palette's JSON endpoints (no namespace, fixed paths)."""

from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view
from web import sse

urlpatterns = [
    path("events", sse.events, name="live-events"),  # async: routed directly
    path("palette/search", view("web.palette.search"), name="palette-search"),
    path("palette/action", view("web.palette.action"), name="palette-action"),
]

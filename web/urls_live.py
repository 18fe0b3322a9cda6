"""Live routes: the SSE stream and the command palette's JSON endpoints (no namespace, fixed paths)."""

from __future__ import annotations

from django.urls import path

from web import palette, sse

urlpatterns = [
    path("events", sse.events, name="live-events"),
    path("palette/search", palette.search, name="palette-search"),
    path("palette/action", palette.action, name="palette-action"),
]

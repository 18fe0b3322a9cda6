"""Routes of the core agent API: inbox, issues, checkout, comments, agents, usage, labels."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

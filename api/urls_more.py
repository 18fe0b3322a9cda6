"""Routes of the planning and knowledge API: work/apex blocks, approvals, archetype patches, wiki."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

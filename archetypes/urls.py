from __future__ import annotations

from django.urls import path

from orgs.lazy_views import view

app_name = "archetypes"

urlpatterns = [
    path("archetype-patches/<int:patch_id>/rollback", view("archetypes.views.rollback"), name="rollback"),
]

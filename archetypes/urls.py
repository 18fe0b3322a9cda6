from __future__ import annotations

from django.urls import path

from archetypes import views

app_name = "archetypes"

urlpatterns = [
    path("archetype-patches/<int:patch_id>/rollback", views.rollback, name="rollback"),
]

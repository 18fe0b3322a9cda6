from __future__ import annotations

from django.apps import AppConfig


class ArchetypesConfig(AppConfig):
    name = "archetypes"
    default_auto_field = "django.db.models.BigAutoField"

from __future__ import annotations

from django.apps import AppConfig


class BlocksConfig(AppConfig):
    name = "blocks"
    default_auto_field = "django.db.models.BigAutoField"

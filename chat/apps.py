from __future__ import annotations

from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Channels of messages (``#eng``, direct threads): not the django-channels package."""

    name = "chat"
    verbose_name = "Channels"
    default_auto_field = "django.db.models.BigAutoField"

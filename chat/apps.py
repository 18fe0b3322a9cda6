from __future__ import annotations

from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Channels between agents (``#eng``, direct threads) and conversations of a human with an agent.

    Not the django-channels package."""

    name = "chat"
    verbose_name = "Chat: channels and conversations"
    default_auto_field = "django.db.models.BigAutoField"

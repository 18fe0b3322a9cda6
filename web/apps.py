from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    """The web shell: access, dashboard, palette, live stream, template tags, bootstrap."""

    name = "web"
    label = "web"

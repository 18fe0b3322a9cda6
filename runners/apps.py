from __future__ import annotations

from django.apps import AppConfig


class RunnersConfig(AppConfig):
    name = "runners"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Nudge the scheduler process right after a wake-type event commits (see runners/wake.py).
        from orgs.events import add_listener
        from runners.wake import on_event

        add_listener(on_event)

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from runners.companions import Companion


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registration must wait until every app's models are loaded (AppConfig.ready), hence the import here.
        from runners.companions import register_companion

        register_companion(notification_threads)


def notification_threads() -> Companion:
    """The delivery worker and the Telegram bot, for a process that runs the scheduler."""
    # Imported here: only a scheduler's process needs the worker (and what it imports), not every start-up.
    from notifications.runtime import NotificationThreads

    return NotificationThreads()

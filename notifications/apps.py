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
        from orgs.redaction import register_secret_source
        from runners.companions import register_companion

        register_companion(notification_threads)
        register_secret_source(channel_secrets)


def channel_secrets(org_id: int) -> list[str]:
    """The org's notification secrets: bot tokens, Discord/Slack webhook URLs, HMAC keys, webhook URLs."""
    # Imported here: apps.py is loaded before the models are.
    from notifications.models import NotificationChannel

    values: list[str] = []
    for secret, config in NotificationChannel.objects.filter(org_id=org_id).values_list("secret", "config"):
        values.append(secret)
        if isinstance(config, dict) and config.get("url"):
            values.append(str(config["url"]))
    return values


def notification_threads() -> Companion:
    """The delivery worker and the Telegram bot, for a process that runs the scheduler."""
    # Imported here: only a scheduler's process needs the worker (and what it imports), not every start-up.
    from notifications.runtime import NotificationThreads

    return NotificationThreads()

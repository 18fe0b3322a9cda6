from __future__ import annotations

from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "orgs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The record factory is process-wide: installed once the apps (and logging) are configured.
        from orgs.redaction import install_log_redaction

        install_log_redaction()

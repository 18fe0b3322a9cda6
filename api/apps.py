from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The prompt's API cheat sheet is generated here, from the routes and serializers (runners cannot import api).
        # By dotted path: DRF and the serializers are imported when a prompt first needs the sheet.
        from runners.cheatsheet import cheat_sheet_provider_set

        cheat_sheet_provider_set("api.cheatsheet.cheat_sheet")

from __future__ import annotations

from django.apps import AppConfig


class ArchetypesConfig(AppConfig):
    name = "archetypes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registration must wait until every app's models are loaded (AppConfig.ready), hence the imports here.
        from agents.services import register_archetype_check
        from approvals.models import ApprovalKind
        from approvals.registry import register_applier
        from archetypes.loader import archetype_exists

        register_applier(ApprovalKind.ARCHETYPE_PATCH, "archetypes.appliers.archetype_patch")  # imported at first use
        register_archetype_check(archetype_exists)

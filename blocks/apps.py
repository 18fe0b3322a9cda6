from __future__ import annotations

from django.apps import AppConfig


class BlocksConfig(AppConfig):
    name = "blocks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registration must wait until every app's models are loaded (AppConfig.ready), hence the imports here.
        from approvals.models import ApprovalKind
        from approvals.registry import register_applier

        # By dotted path: imported at their first use.
        register_applier(ApprovalKind.WORK_BLOCK_ACTIVATE, "blocks.appliers.work_block_activate")
        register_applier(ApprovalKind.WORK_BLOCK_SHIP, "blocks.appliers.work_block_ship")

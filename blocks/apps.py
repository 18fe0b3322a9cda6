from __future__ import annotations

from django.apps import AppConfig


class BlocksConfig(AppConfig):
    name = "blocks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registration must wait until every app's models are loaded (AppConfig.ready), hence the imports here.
        from approvals.models import ApprovalKind
        from approvals.registry import register_applier
        from blocks.appliers import work_block_activate, work_block_ship

        register_applier(ApprovalKind.WORK_BLOCK_ACTIVATE, work_block_activate)
        register_applier(ApprovalKind.WORK_BLOCK_SHIP, work_block_ship)

from __future__ import annotations

from django.apps import AppConfig


class IssuesConfig(AppConfig):
    name = "issues"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registration must wait until every app's models are loaded (AppConfig.ready), hence the imports here.
        from approvals.models import ApprovalKind
        from approvals.registry import register_applier

        register_applier(ApprovalKind.BOARD_REVIEW, "issues.appliers.board_review")  # imported at its first use

from __future__ import annotations

from django.apps import AppConfig


class IssuesConfig(AppConfig):
    name = "issues"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registration must wait until every app's models are loaded (AppConfig.ready), hence the imports here.
        from approvals.models import ApprovalKind
        from approvals.registry import register_applier
        from issues.appliers import board_review

        register_applier(ApprovalKind.BOARD_REVIEW, board_review)

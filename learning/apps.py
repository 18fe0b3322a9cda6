from __future__ import annotations

from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registration must wait until every app's models are loaded (AppConfig.ready), hence the imports here.
        from approvals.models import ApprovalKind
        from approvals.registry import register_applier
        from learning.appliers import improvement_issue, policy_propose, skill_propose

        register_applier(ApprovalKind.SKILL_PROPOSE, skill_propose)
        register_applier(ApprovalKind.POLICY_PROPOSE, policy_propose)
        register_applier(ApprovalKind.ISSUE_PROPOSE, improvement_issue)

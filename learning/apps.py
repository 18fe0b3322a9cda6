from __future__ import annotations

from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registration must wait until every app's models are loaded (AppConfig.ready), hence the imports here.
        from approvals.models import ApprovalKind
        from approvals.registry import register_applier

        # By dotted path: imported at their first use.
        register_applier(ApprovalKind.SKILL_PROPOSE, "learning.appliers.skill_propose")
        register_applier(ApprovalKind.POLICY_PROPOSE, "learning.appliers.policy_propose")
        register_applier(ApprovalKind.ISSUE_PROPOSE, "learning.appliers.improvement_issue")

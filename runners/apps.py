from __future__ import annotations

from django.apps import AppConfig


class RunnersConfig(AppConfig):
    name = "runners"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Nudge the scheduler process right after a wake-type event commits (see runners/wake.py).
        # Registration must wait until every app's models are loaded (AppConfig.ready), hence the imports here.
        from agents.services import register_default_sandbox
        from approvals.models import ApprovalKind
        from approvals.registry import register_applier
        from issues.guards import register_evidence
        from orgs.events import add_listener
        from runners.companions import register_periodic
        from runners.evidence import run_with_diff
        from runners.sandboxes.engine import default_sandbox
        from runners.wake import on_event

        add_listener(on_event)
        # By dotted path: imported when first used, not at start-up (the audit brings git and the prompt).
        register_applier(ApprovalKind.BUDGET_RAISE, "runners.appliers.budget_raise")
        register_evidence(run_with_diff)
        register_periodic("runners.audit.audits_due")  # the orgs' audit schedules
        register_default_sandbox(default_sandbox)

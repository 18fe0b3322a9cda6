from __future__ import annotations

from django.contrib import admin

from approvals.models import Approval


@admin.register(Approval)
class ApprovalAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "status", "org", "requested_by_label", "decided_by_label", "created_at")
    list_filter = ("org", "kind", "status")
    raw_id_fields = ("issue", "work_block", "archetype_patch", "subject_agent", "reviewer", "requested_by_agent")

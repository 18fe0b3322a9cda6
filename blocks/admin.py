from __future__ import annotations

from django.contrib import admin

from blocks.models import ApexBlock, WorkBlock


@admin.register(WorkBlock)
class WorkBlockAdmin(admin.ModelAdmin):
    list_display = ("title", "org", "status", "apex_block", "activated_at", "completed_at")
    list_filter = ("org", "status")
    search_fields = ("title", "goal")


@admin.register(ApexBlock)
class ApexBlockAdmin(admin.ModelAdmin):
    list_display = ("title", "org", "status", "created_at")
    list_filter = ("org", "status")

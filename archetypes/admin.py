from __future__ import annotations

from django.contrib import admin

from archetypes.models import ArchetypePatch


@admin.register(ArchetypePatch)
class ArchetypePatchAdmin(admin.ModelAdmin):
    list_display = ("archetype", "org", "status", "proposed_by_label", "created_at", "decided_at")
    list_filter = ("org", "status", "archetype")

from __future__ import annotations

from django.contrib import admin

from agents.models import Agent, AgentVersion, ApiKey


class AgentVersionInline(admin.TabularInline):
    model = AgentVersion
    fk_name = "agent"
    extra = 0
    fields = ("number", "note", "actor_label", "changes", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "org", "archetype", "runner", "model", "reports_to", "status")
    list_filter = ("org", "runner", "status", "archetype")
    search_fields = ("name", "slug")
    raw_id_fields = ("reports_to", "review_agent")
    exclude = ("env",)  # secret values: set in the dashboard or the API, never shown again
    inlines = [AgentVersionInline]


@admin.register(AgentVersion)
class AgentVersionAdmin(admin.ModelAdmin):
    list_display = ("agent", "number", "note", "actor_label", "created_at")
    list_filter = ("agent__org",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "kind", "org", "agent", "name", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("org", "kind")
    readonly_fields = ("digest", "prefix")
    raw_id_fields = ("agent", "run")

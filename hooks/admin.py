"""Admin for hooks: the secrets and forge tokens stay sealed (change them in Settings → Hooks)."""

from __future__ import annotations

from django.contrib import admin

from hooks.models import Delivery, ExternalLink, Hook, LogEntry, OutputPolicy, Routine, Rule


@admin.register(Hook)
class HookAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "org", "public_id", "enabled", "secret_hint")
    list_filter = ("source", "enabled")
    exclude = ("secret_sealed", "token_sealed")  # sealed at rest; never shown
    readonly_fields = ("public_id", "secret_hint")


@admin.register(Delivery)
class HookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "hook", "event", "delivery_id", "status", "attempts", "received_at")
    list_filter = ("status",)
    raw_id_fields = ("hook",)


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("name", "org", "source", "action", "position", "enabled")
    list_filter = ("source", "action", "enabled")
    raw_id_fields = ("assignee",)


@admin.register(ExternalLink)
class ExternalLinkAdmin(admin.ModelAdmin):
    list_display = ("source", "external_key", "issue", "created_at")
    raw_id_fields = ("issue",)


@admin.register(OutputPolicy)
class OutputPolicyAdmin(admin.ModelAdmin):
    list_display = ("agent", "comments_allowed", "status_allowed", "suggestions_allowed", "updated_at")
    raw_id_fields = ("agent",)


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "org", "kind", "message")
    list_filter = ("kind",)
    raw_id_fields = ("hook", "delivery", "rule", "agent", "issue", "routine")


@admin.register(Routine)
class RoutineAdmin(admin.ModelAdmin):
    list_display = ("name", "org", "agent", "cron", "timezone", "enabled", "next_fire_at")
    list_filter = ("enabled", "action")
    raw_id_fields = ("agent", "last_issue")

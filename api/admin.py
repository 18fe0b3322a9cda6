from __future__ import annotations

from django.contrib import admin

from api.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("prefix", "kind", "org", "agent", "name", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("org", "kind")
    readonly_fields = ("digest", "prefix")
    raw_id_fields = ("agent", "run")

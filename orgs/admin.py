from __future__ import annotations

from django.contrib import admin

from orgs.models import Activity, Event, Membership, Org


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "issue_prefix", "is_default", "issue_seq", "created_at")
    search_fields = ("name", "slug")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("created_at", "org", "actor_kind", "actor_label", "verb", "object_type", "object_repr")
    list_filter = ("org", "actor_kind", "verb", "object_type")
    search_fields = ("object_repr", "actor_label", "object_id")
    raw_id_fields = ("actor_agent", "actor_user")


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "org", "type", "created_at")
    list_filter = ("org", "type")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("org", "user", "role", "created_at")
    list_filter = ("org", "role")
    raw_id_fields = ("user",)

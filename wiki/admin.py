from __future__ import annotations

from django.contrib import admin

from wiki.models import WikiPage, WikiRevision


class WikiRevisionInline(admin.TabularInline):
    model = WikiRevision
    extra = 0
    fields = ("number", "title", "author_label", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(WikiPage)
class WikiPageAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "org", "revision", "updated_at")
    list_filter = ("org",)
    search_fields = ("title", "slug", "content")
    inlines = [WikiRevisionInline]

from __future__ import annotations

from django.contrib import admin

from issues.models import Comment, Issue, IssueRelation, IssueStage, Label, SavedView


class CommentInline(admin.StackedInline):
    model = Comment
    extra = 0
    raw_id_fields = ("author_agent", "author_user")


class IssueStageInline(admin.TabularInline):
    model = IssueStage
    extra = 0


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ("key", "title", "status", "priority", "type", "assignee", "org", "updated_at")
    list_filter = ("org", "status", "priority", "type")
    search_fields = ("key", "title", "description")
    raw_id_fields = ("assignee", "parent", "work_block", "created_by_agent", "created_by_user")
    filter_horizontal = ("labels",)
    inlines = [CommentInline, IssueStageInline]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("issue", "kind", "author_label", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("issue", "author_agent", "author_user")


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ("name", "color", "org")
    list_filter = ("org",)


@admin.register(IssueRelation)
class IssueRelationAdmin(admin.ModelAdmin):
    list_display = ("source", "kind", "target")
    raw_id_fields = ("source", "target")


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "org", "created_at")
    list_filter = ("org",)
    search_fields = ("name", "owner")
    raw_id_fields = ("user",)

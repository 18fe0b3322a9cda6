from __future__ import annotations

from django.contrib import admin

from learning.models import AuditFinding, BoardPolicy, Evaluation, Reflection, Skill, SkillUse


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ("run", "agent", "archetype", "status", "overall")
    list_filter = ("org", "status", "archetype")
    raw_id_fields = ("run", "judge_run", "agent", "issue")


@admin.register(Reflection)
class ReflectionAdmin(admin.ModelAdmin):
    list_display = ("agent", "run", "created_at")
    list_filter = ("org",)
    search_fields = ("text",)
    raw_id_fields = ("agent", "run", "issue")


class SkillUseInline(admin.TabularInline):
    model = SkillUse
    extra = 0
    raw_id_fields = ("run",)


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "status", "archetype", "agent", "org")
    list_filter = ("org", "status")
    search_fields = ("slug", "title", "body")
    raw_id_fields = ("agent",)
    inlines = [SkillUseInline]


@admin.register(BoardPolicy)
class BoardPolicyAdmin(admin.ModelAdmin):
    list_display = ("slug", "text", "active", "org")
    list_filter = ("org", "active")


@admin.register(AuditFinding)
class AuditFindingAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "run", "approval", "created_at")
    list_filter = ("org", "kind")
    raw_id_fields = ("run", "approval")

from __future__ import annotations

from django.contrib import admin

from runners.models import IssueBranch, Run, RunEvent, SchedulerState, TerminalBinding, Worker


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "agent", "issue", "mode", "status", "cost_usd", "started_at", "finished_at")
    list_filter = ("org", "status", "mode", "runner")
    raw_id_fields = ("agent", "issue")


@admin.register(RunEvent)
class RunEventAdmin(admin.ModelAdmin):
    list_display = ("run", "seq", "type", "created_at")
    raw_id_fields = ("run",)


@admin.register(IssueBranch)
class IssueBranchAdmin(admin.ModelAdmin):
    list_display = ("name", "issue", "target", "ship_state", "pr_url")
    list_filter = ("ship_state",)
    raw_id_fields = ("issue",)


@admin.register(SchedulerState)
class SchedulerStateAdmin(admin.ModelAdmin):
    list_display = ("id", "paused", "paused_by", "beat_at", "worker")


@admin.register(TerminalBinding)
class TerminalBindingAdmin(admin.ModelAdmin):
    list_display = ("run", "mode", "agent", "user", "granted_by_label", "created_at", "ended_at")
    list_filter = ("org", "mode")
    raw_id_fields = ("run", "agent", "user", "granted_by_agent", "granted_by_user")


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    # Started, stopped and removed with `manage.py worker`: the container's state is the engine's, not a field.
    list_display = ("name", "agent", "org", "status", "last_health", "last_health_at")
    list_filter = ("org", "status")
    raw_id_fields = ("agent",)
    readonly_fields = ("status", "container_id", "last_health", "last_health_at", "last_error")

"""Output of ``GET /issues/{key}/workspace``."""

from __future__ import annotations

from rest_framework import serializers


class WorkspaceOutput(serializers.Serializer):
    branch = serializers.CharField(help_text="The issue's branch, mesa/<KEY>.")
    target = serializers.CharField(help_text="What it ships into: the parent's branch or the base branch.")
    exists = serializers.BooleanField(help_text="False when the branch or its target is gone (discarded, merged).")
    ahead = serializers.IntegerField(help_text="Commits on the branch that the target lacks.")
    behind = serializers.IntegerField(help_text="Commits on the target that the branch lacks.")
    log = serializers.ListField(child=serializers.CharField(), help_text="The branch's own commits, newest first.")
    stat = serializers.CharField(help_text="Diff stat of target...branch.")
    ship_state = serializers.CharField()
    ship_detail = serializers.CharField()
    pr_url = serializers.CharField()
    run_id = serializers.IntegerField(allow_null=True, help_text="The run working on the issue now, if any.")
    dirty = serializers.ListField(
        child=serializers.CharField(), help_text="Uncommitted paths in that run's worktree (git status --porcelain)."
    )

"""Run shapes: a run in lists (who, what, outcome, usage) and one run in full (its transcript, diff and,
for those allowed to read it, its prompt). Built by hand (``run_out``) like the issue rows; the serializers
declare the JSON for the schema and tests hold the builders to them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.fields import StrictCharField, StrictInput
from api.serializers.issues import iso
from runners.models import Run, RunEvent, RunMode, RunStatus


class TokensOutput(serializers.Serializer):
    input = serializers.IntegerField()
    output = serializers.IntegerField()
    cache_read = serializers.IntegerField()
    cache_write = serializers.IntegerField()
    total = serializers.IntegerField()


class RunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    agent = serializers.CharField(help_text="The agent's slug.")
    issue = serializers.CharField(allow_null=True, help_text="Issue key; null for a heartbeat.")
    mode = serializers.ChoiceField(choices=RunMode.choices)
    status = serializers.ChoiceField(choices=RunStatus.choices)
    reason = serializers.CharField(help_text="What woke the agent.")
    runner = serializers.CharField()
    model = serializers.CharField()
    branch = serializers.CharField(help_text="The git branch the run worked on; empty when it ran in place.")
    cancel_requested = serializers.BooleanField(help_text="A cancel was asked; the run is being stopped.")
    exit_code = serializers.IntegerField(allow_null=True)
    failure_reason = serializers.CharField()
    tokens = TokensOutput()
    cost_usd = serializers.FloatField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class RunEventOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    type = serializers.CharField(help_text="text, tool_use, tool_result, result, error, raw...")
    data = serializers.DictField(help_text="The parsed event (secrets redacted).")  # type: ignore[assignment]
    created_at = serializers.DateTimeField()


class RunDetailOutput(RunOutput):
    num_turns = serializers.IntegerField(allow_null=True)
    isolated = serializers.BooleanField(help_text="True: it ran in its own git worktree.")
    diff = serializers.CharField(help_text="What the run changed (git diff), redacted.")
    stderr = serializers.CharField(help_text="The tail of the CLI's stderr, redacted.")
    events = RunEventOutput(many=True, help_text="The transcript, oldest first (the last EVENTS_LIMIT events).")
    events_truncated = serializers.BooleanField(help_text="True when older events were left out.")
    prompt_visible = serializers.BooleanField(help_text="Whether this key may read the prompt.")
    prompt = serializers.CharField(
        allow_null=True,
        help_text="What the agent was told (role and task); null unless you are the board, the run's agent "
        "or one of its managers.",
    )


class RunCancelInput(StrictInput):
    reason = StrictCharField(
        required=False, allow_blank=True, default="", max_length=500, help_text="Why (posted on the issue)."
    )


EVENTS_LIMIT = 1000


def run_out(run: Run) -> dict[str, Any]:
    """A list row (agent and issue select_related)."""
    return {
        "id": run.pk,
        "agent": run.agent.slug,
        "issue": run.issue.key if run.issue_id and run.issue else None,
        "mode": run.mode,
        "status": run.status,
        "reason": run.reason,
        "runner": run.runner,
        "model": run.model,
        "branch": run.branch,
        "cancel_requested": run.cancel_requested,
        "exit_code": run.exit_code,
        "failure_reason": run.failure_reason,
        "tokens": {
            "input": run.tokens_in,
            "output": run.tokens_out,
            "cache_read": run.tokens_cache_read,
            "cache_write": run.tokens_cache_write,
            "total": run.tokens_total,
        },
        "cost_usd": float(run.cost_usd),
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
    }


def run_detail_out(run: Run, *, prompt_visible: bool) -> dict[str, Any]:
    """One run in full: the list row, the last ``EVENTS_LIMIT`` events (one query), diff, and the prompt if allowed."""
    events = list(
        RunEvent.objects.filter(run_id=run.pk)
        .order_by("-seq")
        .values_list("seq", "type", "data", "created_at")[: EVENTS_LIMIT + 1]
    )
    truncated = len(events) > EVENTS_LIMIT
    events = events[:EVENTS_LIMIT][::-1]
    return {
        **run_out(run),
        "num_turns": run.num_turns,
        "isolated": run.isolated,
        "diff": run.diff,
        "stderr": run.stderr,
        "events": [{"seq": s, "type": t, "data": d, "created_at": iso(c)} for s, t, d, c in events],
        "events_truncated": truncated,
        "prompt_visible": prompt_visible,
        "prompt": run.prompt if prompt_visible else None,
    }

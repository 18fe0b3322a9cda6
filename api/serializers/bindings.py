"""Terminal binding shapes: who is attached to a run's terminal, and the grant input."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from api.fields import StrictCharField, StrictInput
from api.serializers.issues import iso
from runners.models import BindingMode, TerminalBinding


class BindingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    run_id = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=BindingMode.choices)
    agent = serializers.CharField(allow_null=True, help_text="The attached agent's slug (null for a user).")
    user = serializers.CharField(allow_null=True, help_text="The attached user's username (null for an agent).")
    granted_by = serializers.CharField()
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.CharField()
    websocket = serializers.CharField(help_text="Connect here with the same Authorization header to watch or type.")


def binding_out(binding: TerminalBinding) -> dict[str, Any]:
    return {
        "id": binding.pk,
        "run_id": binding.run_id,
        "mode": binding.mode,
        "agent": binding.agent.slug if binding.agent is not None else None,
        "user": binding.user.get_username() if binding.user is not None else None,
        "granted_by": binding.granted_by_label,
        "active": binding.is_active,
        "created_at": iso(binding.created_at),
        "ended_at": iso(binding.ended_at),
        "end_reason": binding.end_reason,
        "websocket": f"/ws/runs/{binding.run_id}/terminal/",
    }


class BindingCreateInput(StrictInput):
    mode = serializers.ChoiceField(choices=BindingMode.choices)
    agent = StrictCharField(
        required=False, allow_blank=True, default="", help_text="Slug of the agent to attach; an agent caller: itself."
    )
    user = StrictCharField(required=False, allow_blank=True, default="", help_text="Username of the human to attach.")


class BindingEndInput(StrictInput):
    reason = StrictCharField(required=False, allow_blank=True, default="", max_length=100)

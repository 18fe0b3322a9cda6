"""Agent shapes: the public view of an agent (never its env values) and the board's create/update inputs."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from agents.models import Agent, AgentStatus, CredentialSet, Egress, Runner, Sandbox, Terminal
from api.fields import StrictBooleanField, StrictCharField, StrictInput, StrictIntegerField
from api.serializers.issues import iso
from orgs.secrets import env_masked


class AgentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    archetype = serializers.CharField()
    runner = serializers.ChoiceField(choices=Runner.choices)
    sandbox = serializers.ChoiceField(choices=Sandbox.choices)
    terminal = serializers.ChoiceField(choices=Terminal.choices)
    model = serializers.CharField()
    status = serializers.ChoiceField(choices=AgentStatus.choices)
    reports_to = serializers.CharField(allow_null=True, help_text="Manager's slug; null for a root agent.")
    review_agent = serializers.CharField(allow_null=True, help_text="Slug of the agent that reviews this one.")
    is_ceo = serializers.BooleanField()
    heartbeat_enabled = serializers.BooleanField()
    last_seen_at = serializers.DateTimeField(allow_null=True)
    last_seen_note = serializers.CharField()


class AgentDetailOutput(AgentOutput):
    egress = serializers.ChoiceField(choices=Egress.choices, help_text="What a container run reaches besides Mesa.")
    container_image = serializers.CharField(help_text="Image of its container runs; empty = the instance's default.")
    credential_mounts = serializers.ListField(
        child=serializers.ChoiceField(choices=CredentialSet.choices), help_text="CLI logins a container run gets."
    )
    codex_mcp = serializers.BooleanField(help_text="Claude runs get Codex as an MCP tool.")
    working_dir = serializers.CharField()
    base_branch = serializers.CharField()
    max_turns = serializers.IntegerField()
    timeout_s = serializers.IntegerField()
    heartbeat_interval_s = serializers.IntegerField()
    daily_token_limit = serializers.IntegerField(allow_null=True)
    daily_cost_limit_usd = serializers.FloatField(allow_null=True)
    disallowed_tools = serializers.ListField(child=serializers.CharField())
    env_keys = serializers.ListField(child=serializers.CharField(), help_text="Names only; values are never shown.")
    env = serializers.DictField(child=serializers.CharField(), help_text="Each name with its value masked (••••1234).")
    config_version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def agent_out(agent: Agent, slugs: dict[int, str], *, detail: bool = False) -> dict[str, Any]:
    """``slugs`` maps agent id → slug for the org (resolves reports_to / review_agent without queries)."""
    out: dict[str, Any] = {
        "id": agent.pk,
        "slug": agent.slug,
        "name": agent.name,
        "archetype": agent.archetype,
        "runner": agent.runner,
        "sandbox": agent.sandbox,
        "terminal": agent.terminal,
        "model": agent.model,
        "status": agent.status,
        "reports_to": slugs.get(agent.reports_to_id) if agent.reports_to_id else None,
        "review_agent": slugs.get(agent.review_agent_id) if agent.review_agent_id else None,
        "is_ceo": agent.reports_to_id is None and agent.archetype == "ceo",
        "heartbeat_enabled": agent.heartbeat_enabled,
        "last_seen_at": iso(agent.last_seen_at),
        "last_seen_note": agent.last_seen_note,
    }
    if detail:
        out.update(
            egress=agent.egress,
            container_image=agent.container_image,
            credential_mounts=list(agent.credential_mounts or []),
            codex_mcp=agent.codex_mcp,
            working_dir=agent.working_dir,
            base_branch=agent.base_branch,
            max_turns=agent.max_turns,
            timeout_s=agent.timeout_s,
            heartbeat_interval_s=agent.heartbeat_interval_s,
            daily_token_limit=agent.daily_token_limit,
            daily_cost_limit_usd=(
                float(agent.daily_cost_limit_usd) if agent.daily_cost_limit_usd is not None else None
            ),
            disallowed_tools=list(agent.disallowed_tools or []),
            env_keys=sorted((agent.env or {}).keys()),
            env=env_masked(agent.env),
            config_version=agent.config_version,
            created_at=iso(agent.created_at),
            updated_at=iso(agent.updated_at),
        )
    return out


class _AgentConfigInput(StrictInput):
    name = StrictCharField(required=False, max_length=120)
    archetype = StrictCharField(required=False)
    runner = serializers.ChoiceField(choices=Runner.choices, required=False)
    sandbox = serializers.ChoiceField(
        choices=Sandbox.choices, required=False, help_text="host is the instance operator's choice only."
    )
    terminal = serializers.ChoiceField(
        choices=Terminal.choices, required=False, help_text="pty: host runs execute under a pseudo-terminal."
    )
    egress = serializers.ChoiceField(
        choices=Egress.choices, required=False, help_text="model_api: a container run may reach its model API."
    )
    container_image = StrictCharField(
        required=False, allow_blank=True, max_length=300, help_text="The instance operator's choice only."
    )
    credential_mounts = serializers.ListField(
        child=serializers.ChoiceField(choices=CredentialSet.choices),
        required=False,
        help_text="Adding one is the instance operator's choice only.",
    )
    codex_mcp = StrictBooleanField(required=False, help_text="Claude runs get Codex as an MCP tool.")
    model = StrictCharField(required=False, allow_blank=True)
    working_dir = StrictCharField(required=False, allow_blank=True)
    base_branch = StrictCharField(required=False, allow_blank=True)
    reports_to = StrictCharField(required=False, allow_null=True, allow_blank=True, help_text="Manager's slug.")
    review_agent = StrictCharField(required=False, allow_null=True, allow_blank=True, help_text="Reviewer's slug.")
    max_turns = StrictIntegerField(required=False, min_value=1, max_value=2**31 - 1)
    timeout_s = StrictIntegerField(required=False, min_value=1, max_value=2**31 - 1)
    heartbeat_enabled = StrictBooleanField(required=False)
    heartbeat_interval_s = StrictIntegerField(required=False, min_value=10, max_value=2**31 - 1)
    daily_token_limit = StrictIntegerField(required=False, allow_null=True, min_value=0, help_text="null = none.")
    daily_cost_limit_usd = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, allow_null=True, min_value=0, help_text="null = none."
    )
    disallowed_tools = serializers.ListField(child=StrictCharField(), required=False)
    env = serializers.DictField(child=StrictCharField(allow_blank=True), required=False)


class AgentCreateInput(_AgentConfigInput):
    slug = StrictCharField(max_length=60)


class AgentUpdateInput(_AgentConfigInput):
    status = serializers.ChoiceField(choices=AgentStatus.choices, required=False)
    note = StrictCharField(required=False, allow_blank=True, max_length=200, help_text="Why (kept with the version).")


class HeartbeatInput(StrictInput):
    note = StrictCharField(required=False, allow_blank=True, default="", max_length=300, help_text="What you do now.")


class HeartbeatOutput(serializers.Serializer):
    slug = serializers.CharField()
    last_seen_at = serializers.DateTimeField()
    last_seen_note = serializers.CharField()


class AgentPauseInput(StrictInput):
    stop_current = StrictBooleanField(
        required=False, default=False, help_text="Also cancel its queued and running runs (default: let them finish)."
    )

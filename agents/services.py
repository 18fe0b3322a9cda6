"""Writes for agents: creation, configuration changes (always versioned), rollback."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from agents.models import (
    CONFIG_FIELDS,
    Agent,
    AgentStatus,
    AgentVersion,
    CredentialSet,
    Egress,
    Runner,
    Sandbox,
    Terminal,
)
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput, NotFound
from orgs.events import EventType, event_publish
from orgs.models import Org
from orgs.secrets import env_fingerprints
from orgs.services import activity_record, require_member

# Which archetypes exist is the archetypes app's knowledge (a layer above agents): it registers its
# check in ArchetypesConfig.ready, so agents never imports it. Until then every archetype is refused.
ArchetypeCheck = Callable[[str], bool]
_archetype_checks: list[ArchetypeCheck] = []


def register_archetype_check(check: ArchetypeCheck) -> None:
    if check not in _archetype_checks:
        _archetype_checks.append(check)


def _archetype_exists(slug: str) -> bool:
    return bool(_archetype_checks) and all(check(slug) for check in _archetype_checks)


# Which sandbox a new agent gets when its creator does not choose: the runners app registers its engine
# check (RunnersConfig.ready: container as soon as an engine answers), so agents never imports it.
_sandbox_defaults: list[Callable[[], str]] = []


def register_default_sandbox(provider: Callable[[], str]) -> None:
    _sandbox_defaults[:] = [provider]


def default_sandbox() -> str:
    return _sandbox_defaults[0]() if _sandbox_defaults else Sandbox.HOST


SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
# An image reference as engines take it: [registry/]name[:tag][@digest], no spaces or options.
IMAGE_RE = re.compile(r"^[a-z0-9][a-z0-9._/:@+-]{0,299}$", re.IGNORECASE)
FK_FIELDS = ("reports_to", "review_agent")
MIN_HEARTBEAT_S = 10


def _snapshot(agent: Agent) -> dict[str, Any]:
    """The agent's configuration as JSON-safe values (foreign keys as ids).

    ``env`` is kept as names with fingerprints, never values: versions and activity are shown.
    """
    config: dict[str, Any] = {}
    for field in CONFIG_FIELDS:
        if field == "env":
            config[field] = env_fingerprints(agent.env)
        elif field in FK_FIELDS:
            config[field] = getattr(agent, f"{field}_id")
        else:
            value = getattr(agent, field)
            config[field] = str(value) if isinstance(value, Decimal) else value
    return config


def _check_manager(agent: Agent, manager: Agent | None) -> None:
    """Refuse a reporting line that points to the agent itself or closes a cycle."""
    if manager is None:
        return
    if manager.org_id != agent.org_id:
        raise InvalidInput("The manager must be an agent of the same org.", field="reports_to")
    if agent.pk is not None and manager.pk == agent.pk:
        raise InvalidInput("An agent cannot report to itself.", field="reports_to", code="reporting_cycle")
    seen: set[int] = set()
    # Walk the chain as stored, not from the caller's (possibly stale) manager instance.
    cursor: Agent | None = Agent.objects.filter(pk=manager.pk).first()
    while cursor is not None and agent.pk is not None:
        if cursor.pk == agent.pk:
            raise InvalidInput(
                f"{agent.slug} cannot report to {manager.slug}: {manager.slug} already reports "
                f"(directly or further up) to {agent.slug}.",
                field="reports_to",
                code="reporting_cycle",
            )
        if cursor.pk in seen:  # a pre-existing cycle; stop rather than loop forever
            break
        seen.add(cursor.pk)
        cursor = Agent.objects.filter(pk=cursor.reports_to_id).first() if cursor.reports_to_id else None


# Fields whose value must be one of a model choice set; the error names the field and the choices.
_CHOICE_FIELDS: dict[str, type[models.TextChoices]] = {
    "sandbox": Sandbox,
    "terminal": Terminal,
    "egress": Egress,
    "runner": Runner,
    "status": AgentStatus,
}


def _clean_value(field: str, value: Any, agent: Agent) -> Any:
    """Validate and coerce one configuration value; raise InvalidInput naming the field."""
    if field in FK_FIELDS:
        if value is not None and not isinstance(value, Agent):
            raise InvalidInput(f"{field} must be an agent.", field=field)
        if field == "review_agent" and value is not None:
            if value.org_id != agent.org_id:
                raise InvalidInput("The reviewer must be an agent of the same org.", field=field)
            if agent.pk is not None and value.pk == agent.pk:
                raise InvalidInput("An agent cannot review its own work.", field=field)
        return value
    if field == "name":
        value = str(value or "").strip()
        if not value:
            raise InvalidInput("An agent needs a name.", field=field)
        return value[:120]
    choices = _CHOICE_FIELDS.get(field)
    if choices is not None:
        if value not in choices.values:
            raise InvalidInput(f"Unknown {field} {value!r}; use one of {', '.join(choices.values)}.", field=field)
        return value
    if field == "archetype":
        value = str(value or "").strip()
        if not _archetype_exists(value):
            raise InvalidInput(f"There is no archetype {value!r}.", field=field)
        return value
    if field in {"max_turns", "timeout_s", "heartbeat_interval_s"}:
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{field} must be a whole number.", field=field) from exc
        minimum = MIN_HEARTBEAT_S if field == "heartbeat_interval_s" else 1
        if number < minimum:
            raise InvalidInput(f"{field} must be at least {minimum}.", field=field)
        return number
    if field == "daily_token_limit":
        if value in (None, ""):
            return None
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput("daily_token_limit must be a whole number or empty.", field=field) from exc
        if number < 0:
            raise InvalidInput("daily_token_limit cannot be negative.", field=field)
        return number
    if field == "daily_cost_limit_usd":
        if value in (None, ""):
            return None
        try:
            amount = Decimal(str(value)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError) as exc:
            raise InvalidInput("daily_cost_limit_usd must be a number or empty.", field=field) from exc
        if amount < 0:
            raise InvalidInput("daily_cost_limit_usd cannot be negative.", field=field)
        return amount
    if field in {"heartbeat_enabled", "codex_mcp"}:
        return bool(value)
    if field == "container_image":
        image = str(value or "").strip()
        if image and not IMAGE_RE.match(image):
            raise InvalidInput(f"{image!r} is not an image reference (name[:tag] or name@digest).", field=field)
        return image
    if field == "credential_mounts":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput("credential_mounts must be a list of credential set names.", field=field)
        names = [v.strip() for v in value if v.strip()]
        unknown = [n for n in names if n not in CredentialSet.values]
        if unknown:
            raise InvalidInput(
                f"Unknown credential set {unknown[0]!r}; use any of {', '.join(CredentialSet.values)}.", field=field
            )
        return sorted(set(names))
    if field == "disallowed_tools":
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise InvalidInput("disallowed_tools must be a list of tool names.", field=field)
        return [t.strip() for t in value if t.strip()]
    if field == "env":
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise InvalidInput("env must be an object of NAME: value pairs.", field=field)
        for key in value:
            if key.startswith("MESA_"):
                raise InvalidInput(f"{key}: MESA_* variables are set by Mesa itself.", field=field)
        return {k: str(v) for k, v in value.items()}
    if field in {"model", "working_dir", "base_branch"}:
        return str(value or "").strip()
    if field == "ship_mode":
        mode = str(value or "").strip()
        if mode not in ("", "merge", "pull_request", "none"):
            raise InvalidInput("ship_mode is merge, pull_request, none, or empty (the org's setting).", field=field)
        return mode
    raise InvalidInput(f"Unknown agent field {field!r}.", field=field)


# Environment names that change which code a process loads or finds: setting them is running code.
LOADER_ENV_NAMES = frozenset(
    {
        "PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
        "PYTHONUSERBASE", "NODE_OPTIONS", "NODE_PATH", "BASH_ENV", "ENV", "PERL5OPT", "PERL5LIB", "RUBYOPT",
        "RUBYLIB", "GIT_EXEC_PATH", "GIT_SSH_COMMAND", "GIT_CONFIG_GLOBAL", "SHELL", "HOME",
    }
)  # fmt: skip


def _loader_env_name(name: str) -> bool:
    upper = name.upper()
    return upper in LOADER_ENV_NAMES or upper.startswith(("LD_", "DYLD_"))


def _endpoint_env_name(name: str) -> bool:
    """A model endpoint variable: a container run with egress model_api may reach its host."""
    upper = name.upper()
    return upper.endswith(("_BASE_URL", "_API_BASE", "_ENDPOINT"))


def _operator_only_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Why the change from ``before`` to ``after`` needs the instance operator (empty: it does not).

    The command runner, a working dir of the agent's choosing and environment names that change the
    loader or PATH all run code of the agent's choosing on the Mesa machine as the Mesa user.
    """
    reasons = []
    if after.get("runner") == Runner.COMMAND and before.get("runner") != Runner.COMMAND:
        reasons.append("the command runner runs any command line on the Mesa machine")
    if after.get("sandbox") == Sandbox.HOST and before.get("sandbox") != Sandbox.HOST:
        reasons.append("the host sandbox runs the agent on the Mesa machine as the Mesa user")
    if after.get("working_dir") and after.get("working_dir") != before.get("working_dir"):
        reasons.append("a working dir points the agent at a directory of the Mesa machine")
    old_env, new_env = before.get("env") or {}, after.get("env") or {}
    changed = sorted(k for k in new_env if _loader_env_name(k) and old_env.get(k) != new_env[k])
    if changed:
        reasons.append(f"{', '.join(changed)} change which programs and libraries the agent runs")
    if after.get("container_image", "") != before.get("container_image", ""):
        reasons.append("the image of a container run decides what runs next to the agent's credentials")
    added = sorted(set(after.get("credential_mounts") or []) - set(before.get("credential_mounts") or []))
    if added:
        reasons.append(f"credential mounts ({', '.join(added)}) hand the Mesa machine's CLI logins to the agent")
    endpoints = sorted(k for k in new_env if _endpoint_env_name(k) and old_env.get(k) != new_env[k])
    if endpoints:
        reasons.append(f"{', '.join(endpoints)} choose which host a container run may reach (its model API)")
    return reasons


def _require_operator(actor: Actor, before: dict[str, Any], after: dict[str, Any]) -> None:
    reasons = _operator_only_changes(before, after)
    if reasons and not actor.operator:
        raise Forbidden(
            "Only the instance operator (a superuser in the browser, or manage.py) can make this change: "
            + "; ".join(reasons)
            + ". API keys never can.",
            code="operator_only",
        )


def _record_version(agent: Agent, *, actor: Actor, changes: dict[str, Any], note: str) -> AgentVersion:
    number = agent.config_version + 1
    Agent.objects.filter(pk=agent.pk).update(config_version=number)
    agent.config_version = number
    return AgentVersion.objects.create(
        agent=agent,
        number=number,
        config=_snapshot(agent),
        changes=changes,
        note=note,
        actor_agent=actor.agent,
        actor_user=actor.user if actor.user is not None and actor.user.pk else None,
        actor_label=str(actor)[:100],
    )


def _event_data(agent: Agent) -> dict[str, Any]:
    return {"id": agent.pk, "slug": agent.slug, "name": agent.name, "status": agent.status}


@transaction.atomic
def agent_create(*, actor: Actor, org: Org, slug: str, name: str = "", **config: Any) -> Agent:
    """Create an agent (version 1 of its configuration)."""
    require_member(actor, org.pk)
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise InvalidInput(
            "The agent slug must be lowercase letters, digits and '-', starting with a letter or digit.",
            field="slug",
        )
    unknown = set(config) - set(CONFIG_FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown agent field(s): {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    agent = Agent(org=org, slug=slug)
    # The default is nobody's choice; choosing host over it is the operator's (_operator_only_changes).
    default = default_sandbox()
    config.setdefault("sandbox", default)
    values = {"name": name or slug, "archetype": config.pop("archetype", "other"), **config}
    for field, value in values.items():
        setattr(agent, field, _clean_value(field, value, agent))
    _check_manager(agent, agent.reports_to)
    _require_operator(actor, _snapshot(Agent(org=org, sandbox=default)), _snapshot(agent))
    try:
        with transaction.atomic():
            agent.save()
    except IntegrityError as exc:
        raise Conflict(f"An agent with the slug {slug!r} already exists in this org.", code="duplicate") from exc
    _record_version(agent, actor=actor, changes={}, note="created")
    activity_record(org=org, actor=actor, verb="created", obj=agent)
    event_publish(org=agent.org, type=EventType.AGENT_CREATED, data=_event_data(agent))
    return agent


@transaction.atomic
def agent_update(*, actor: Actor, agent: Agent, note: str = "", **changes: Any) -> Agent:
    """Change configuration fields; each effective change is stored as a new version.

    Returns the agent unchanged (and writes nothing) when no value differs.
    """
    require_member(actor, agent.org_id)
    unknown = set(changes) - set(CONFIG_FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown agent field(s): {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    if "reports_to" in changes:
        # Re-orgs in one org take turns, so two crossing moves (a under b, b under a) cannot both pass
        # the cycle check (Postgres: the org row lock, taken before the agent's; SQLite: BEGIN IMMEDIATE).
        list(Org.objects.select_for_update(no_key=True).filter(pk=agent.org_id).values_list("pk", flat=True))
    # Lock the row so two concurrent edits cannot interleave their version numbers.
    locked = Agent.objects.select_for_update().filter(pk=agent.pk).first()
    if locked is None:
        raise NotFound("That agent no longer exists.")
    agent.refresh_from_db()
    before = _snapshot(agent)
    for field, value in changes.items():
        cleaned = _clean_value(field, value, agent)
        if field == "reports_to":
            _check_manager(agent, cleaned)
        setattr(agent, field, cleaned)
    after = _snapshot(agent)
    diff = {f: [before[f], after[f]] for f in CONFIG_FIELDS if before[f] != after[f]}
    if not diff:
        return agent
    _require_operator(actor, before, after)
    agent.save()
    _record_version(agent, actor=actor, changes=diff, note=note)
    activity_record(org=agent.org, actor=actor, verb="updated", obj=agent, details={"changes": diff})
    event_publish(org=agent.org, type=EventType.AGENT_UPDATED, data=_event_data(agent))
    return agent


@transaction.atomic
def agent_rollback(*, actor: Actor, agent: Agent, version: int) -> Agent:
    """Restore the configuration of ``version``; the restore is itself a new version.

    ``env`` is not restored: versions keep only its names and fingerprints, never the values.
    """
    target = AgentVersion.objects.filter(agent=agent, number=version).first()
    if target is None:
        raise NotFound(f"{agent.slug} has no version {version}.")
    changes: dict[str, Any] = {}
    for field in CONFIG_FIELDS:
        if field not in target.config or field == "env":
            continue
        value = target.config[field]
        if field in FK_FIELDS:
            value = Agent.objects.filter(org=agent.org, pk=value).first() if value else None
        changes[field] = value
    return agent_update(actor=actor, agent=agent, note=f"rollback to v{version}", **changes)


def agent_pause(*, actor: Actor, agent: Agent) -> Agent:
    return agent_update(actor=actor, agent=agent, status=AgentStatus.PAUSED, note="paused")


def agent_resume(*, actor: Actor, agent: Agent) -> Agent:
    return agent_update(actor=actor, agent=agent, status=AgentStatus.ACTIVE, note="resumed")


@transaction.atomic
def agent_archive(*, actor: Actor, agent: Agent) -> Agent:
    """Archive an agent: its status becomes ``terminated``, the status Mesa already treats as gone.

    A terminated agent is never dispatched, reviews nothing, is left out of the agent list, chat and
    assignee pickers, and keeps its history. Conflict when it is archived already.
    """
    if agent.status == AgentStatus.TERMINATED:
        raise Conflict(f"{agent.slug} is archived already.", code="archived")
    return agent_update(actor=actor, agent=agent, status=AgentStatus.TERMINATED, note="archived")


@transaction.atomic
def agent_restore(*, actor: Actor, agent: Agent) -> Agent:
    """Bring an archived agent back, paused: nothing runs until someone resumes it."""
    if agent.status != AgentStatus.TERMINATED:
        raise Conflict(f"{agent.slug} is not archived.", code="not_archived")
    return agent_update(actor=actor, agent=agent, status=AgentStatus.PAUSED, note="restored from the archive")


def agent_heartbeat(*, agent: Agent, note: str = "") -> Agent:
    """Record that ``agent`` is alive and what it is doing (``last_seen_at`` / ``last_seen_note``).

    Publishes an ``agent_heartbeat`` event for the dashboard but writes no
    Activity row: liveness pings every few minutes would drown the audit trail,
    and they change no configuration or work.
    """

    note = " ".join((note or "").split())
    if len(note) > 300:
        raise InvalidInput("The note is at most 300 characters.", field="note")
    now = timezone.now()
    with transaction.atomic():
        Agent.objects.filter(pk=agent.pk).update(last_seen_at=now, last_seen_note=note)
        agent.last_seen_at, agent.last_seen_note = now, note
        event_publish(
            org=agent.org,
            type=EventType.AGENT_HEARTBEAT,
            data={"id": agent.pk, "slug": agent.slug, "note": note, "at": now.isoformat()},
        )
    return agent

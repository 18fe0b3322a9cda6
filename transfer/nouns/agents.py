"""Agents and their reporting lines (``agents.toml``); env values never leave, only their names."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from agents.models import CONFIG_FIELDS, Agent
from agents.services import agent_create, agent_update
from orgs.models import Org
from transfer.nouns.common import read_toml, write_toml
from transfer.registry import Bundle, ImportContext

NAME = "agents"
PATH = "agents.toml"
FK_FIELDS = ("reports_to", "review_agent")
PLAIN_FIELDS = tuple(f for f in CONFIG_FIELDS if f not in FK_FIELDS and f not in ("env", "name"))


def _row(agent: Agent) -> dict[str, Any]:
    row: dict[str, Any] = {"slug": agent.slug, "name": agent.name}
    for field in PLAIN_FIELDS:
        value = getattr(agent, field)
        row[field] = str(value) if isinstance(value, Decimal) else value
    row["reports_to"] = agent.reports_to.slug if agent.reports_to else None
    row["review_agent"] = agent.review_agent.slug if agent.review_agent else None
    # Secrets: names only, to be filled in after import.
    row["env_names"] = sorted(agent.env or {})
    return row


def export(org: Org, bundle: Bundle) -> None:
    agents = Agent.objects.filter(org=org).select_related("reports_to", "review_agent").order_by("slug")
    write_toml(bundle, PATH, {"agent": [_row(a) for a in agents]})


def load(ctx: ImportContext) -> None:
    rows = read_toml(ctx.bundle, PATH).get("agent", [])
    by_slug: dict[str, Agent] = {a.slug: a for a in Agent.objects.filter(org=ctx.org)}
    for row in rows:
        config = {f: row.get(f) for f in PLAIN_FIELDS if f in row or f in ("daily_token_limit", "daily_cost_limit_usd")}
        existing = by_slug.get(row["slug"])
        if existing is None:
            by_slug[row["slug"]] = agent_create(
                actor=ctx.actor, org=ctx.org, slug=row["slug"], name=row.get("name", ""), **config
            )
            ctx.change(f"create agent {row['slug']}")
        else:
            version = existing.config_version
            agent_update(actor=ctx.actor, agent=existing, note="import", name=row.get("name", existing.name), **config)
            if existing.config_version != version:
                ctx.change(f"update agent {row['slug']}")
    # Reporting lines once every agent exists (a manager may sort after its report).
    for row in rows:
        agent = by_slug[row["slug"]]
        wanted = {f: by_slug.get(row[f]) if row.get(f) else None for f in FK_FIELDS}
        version = agent.config_version
        agent_update(actor=ctx.actor, agent=agent, note="import", **wanted)
        if agent.config_version != version:
            ctx.change(f"update agent {row['slug']}: reporting line")
        # Secrets arrive as names with empty values (skipped when a run starts) for the operator to fill in.
        missing = [n for n in row.get("env_names", []) if n not in (agent.env or {})]
        if missing:
            agent_update(
                actor=ctx.actor, agent=agent, note="import", env={**(agent.env or {}), **dict.fromkeys(missing, "")}
            )
            ctx.change(f"update agent {agent.slug}: env names {', '.join(missing)}")
        ctx.to_fill_in.extend(f"agent {agent.slug}: env {n}" for n in sorted(agent.env or {}) if not agent.env[n])
    ctx.refs["agents"] = dict(by_slug)

"""Reads of agents."""

from __future__ import annotations

from django.db.models import QuerySet

from agents.models import Agent, AgentStatus, ApiKey, KeyKind
from orgs.errors import InvalidInput, NotFound
from orgs.models import Org


def agent_ref(org: Org, slug: str | None, field: str) -> Agent | None:
    """The agent ``slug`` of ``org`` named in a form or body field; None for "" / null.

    An unknown slug is InvalidInput naming ``field`` (never silently None: a typo'd
    manager would otherwise create a root agent).
    """
    if not slug:
        return None
    agent = Agent.objects.filter(org=org, slug=slug.strip().lower()).first()
    if agent is None:
        known = ", ".join(Agent.objects.filter(org=org).order_by("slug").values_list("slug", flat=True)[:50])
        raise InvalidInput(f"There is no agent {slug!r} in this org. Agents: {known or 'none'}.", field=field)
    return agent


def is_ceo(agent: Agent) -> bool:
    """The CEO is the root of the org chart with the ``ceo`` archetype (``ceos()`` asks the same in SQL)."""
    return agent.reports_to_id is None and agent.archetype == "ceo"


def ceos() -> QuerySet[Agent]:
    """Every org's CEO that still works (terminated ones excluded): the agents ``is_ceo`` is true for."""
    return Agent.objects.filter(reports_to__isnull=True, archetype="ceo").exclude(status=AgentStatus.TERMINATED)


def org_ceo(org_id: int) -> Agent | None:
    """The CEO of an org (the first, should there be several roots with the ``ceo`` archetype)."""
    return ceos().filter(org_id=org_id).order_by("id").first()


def manages(manager: Agent, agent_id: int | None) -> bool:
    """True when the agent with ``agent_id`` reports to ``manager``, directly or further down."""
    if agent_id is None:
        return False
    edges = dict(Agent.objects.filter(org_id=manager.org_id).values_list("id", "reports_to_id"))
    seen: set[int] = set()
    cursor = edges.get(agent_id)
    while cursor is not None and cursor not in seen:
        if cursor == manager.pk:
            return True
        seen.add(cursor)
        cursor = edges.get(cursor)
    return False


def keys_listed(org: Org | None = None, *, include_revoked: bool = False) -> QuerySet[ApiKey]:
    """Board and agent keys (of ``org``, or of every org for the operator's CLI), newest first.

    Run keys are left out: each lives for one run and is revoked when it ends.
    """
    rows = ApiKey.objects.select_related("org", "agent").exclude(kind=KeyKind.RUN)
    if org is not None:
        rows = rows.filter(org=org)
    if not include_revoked:
        rows = rows.filter(revoked_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def key_get(org: Org, pk: int | str) -> ApiKey:
    """The key ``pk`` of ``org``; another org's key is NotFound."""
    key = ApiKey.objects.select_related("org").filter(org=org, pk=int(pk) if str(pk).isdigit() else -1).first()
    if key is None:
        raise NotFound(f"There is no key {pk} in this org.")
    return key

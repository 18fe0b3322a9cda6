"""Reads of agents."""

from __future__ import annotations

from agents.models import Agent
from orgs.errors import InvalidInput
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

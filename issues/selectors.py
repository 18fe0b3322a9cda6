"""Permission-scoped reads of issues."""

from __future__ import annotations

from issues.models import Issue
from orgs.actors import Actor
from orgs.errors import NotFound
from orgs.models import Org


def issue_get_for(*, actor: Actor, org: Org, key: str) -> Issue:
    """The issue ``key`` of ``org`` if ``actor`` may read it, else NotFound.

    Everyone in an org may read its issues; an agent of another org gets 404 (not
    403) so keys of other orgs are not disclosed.
    """
    if actor.agent is not None and actor.agent.org_id != org.pk:
        raise NotFound(f"There is no issue {key}.")
    issue = (
        Issue.objects.select_related("org", "assignee", "parent", "work_block")
        .filter(org=org, key=(key or "").upper())
        .first()
    )
    if issue is None:
        raise NotFound(f"There is no issue {key}.")
    return issue

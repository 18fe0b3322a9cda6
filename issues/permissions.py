"""Who may change which issue. Every write path (HTML, API, Telegram) asks here.

Rules: board actors (humans, board keys, the system) and the CEO (the root of
the org chart, archetype ``ceo``) may act on everything in their org. Any other
agent may update or comment on issues assigned to itself, to agents that report
to it (directly or further down), or to agents whose work it reviews. Anyone in
the org may read and create issues.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

from django.db import transaction

from agents.selectors import is_ceo, manages
from issues.models import Issue
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, NotFound


def edit_denial(actor: Actor, issue: Issue) -> str | None:
    """Why ``actor`` may not change ``issue``, or None when it may."""
    if actor.agent is None:
        return None if actor.board else "Only board members may change issues."
    agent = actor.agent
    if agent.org_id != issue.org_id:
        return "This issue belongs to another org."
    if is_ceo(agent) or issue.assignee_id == agent.pk:
        return None
    if issue.assignee_id is None:
        return f"{issue.key} is unassigned; check it out first or ask the CEO to assign it."
    assignee = issue.assignee
    if assignee is not None and assignee.review_agent_id == agent.pk:
        return None
    if manages(agent, issue.assignee_id):
        return None
    return (
        f"{issue.key} is assigned to {assignee.slug if assignee else 'someone else'}; you may only change issues "
        "assigned to you, to agents reporting to you, or whose work you review."
    )


def require_edit(actor: Actor, issue: Issue) -> None:
    """Forbidden unless ``actor`` may change ``issue``; then Conflict (code ``archived``) while it is archived.

    Every public issue write (edit, move, comment, stages, relations, shipping) passes here, so an archived
    issue is read-only everywhere until restored (issues/archive.py); internal ``do_…`` paths (a run's own
    report) are not refused.
    """
    reason = edit_denial(actor, issue)
    if reason:
        raise Forbidden(reason)
    if issue.archived_at is not None:
        raise Conflict(f"{issue.key} is archived; a board member restores it first.", code="archived")


def require_org(actor: Actor, org_id: int) -> None:
    if actor.agent is not None and actor.agent.org_id != org_id:
        raise NotFound("Not found.")


P = ParamSpec("P")
R = TypeVar("R")


def edit_checked(do: Callable[P, R], *, name: str, doc: str) -> Callable[P, R]:
    """The public service of ``do`` (a ``do_…`` write that trusts its caller): the same call, made only
    after ``require_edit(actor, issue)`` (else Forbidden, or Conflict for an archived issue), in one transaction.

    ``do`` keeps the one signature; callers that already decided (an edit checked once, an
    approval's decider) call ``do`` itself.
    """

    @functools.wraps(do)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        require_edit(cast(Actor, kwargs["actor"]), cast(Issue, kwargs["issue"]))
        return do(*args, **kwargs)

    checked.__name__ = checked.__qualname__ = name
    checked.__doc__ = doc
    return transaction.atomic(checked)

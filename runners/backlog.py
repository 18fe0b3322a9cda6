"""The human backlog: free text for the CEO, kept in ``artifact-docs/backlog.md`` in its directory.

A human writes into the backlog box (or the file itself); the CEO's next run sees
the text in its prompt and turns it into issues. When that run completes, Mesa
moves the items it saw to ``artifact-docs/backlog-done/`` — the CEO runs in its
own worktree and could not empty the file in the main checkout itself. Items
added while the run was going on stay in the file for the next run.

An append publishes ``backlog_updated``; the dispatcher (``runners.dispatch``) reacts to it by
waking the CEO, so this module depends on nothing above it.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction
from django.utils import timezone

from agents.models import Agent
from agents.selectors import org_ceo
from orgs.actors import Actor
from orgs.errors import InvalidInput
from orgs.events import EventType, event_publish
from orgs.models import Org
from orgs.services import activity_record, require_member
from runners.worktrees import agent_home

MAX_ITEM = 20_000


def backlog_path(agent: Agent) -> Path:
    return agent_home(agent) / "artifact-docs" / "backlog.md"


def backlog_read(agent: Agent) -> str:
    try:
        return backlog_path(agent).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


@transaction.atomic
def backlog_append(*, actor: Actor, org: Org, text: str) -> Agent:
    """Add an item to the CEO's backlog and publish ``backlog_updated``; returns the CEO.

    The dispatcher answers the event with a heartbeat run of the CEO (see ``runners.dispatch``).
    """
    require_member(actor, org.pk)
    text = (text or "").strip()
    if not text:
        raise InvalidInput("Write what you want done.", field="text")
    if len(text) > MAX_ITEM:
        raise InvalidInput(f"A backlog item is at most {MAX_ITEM} characters.", field="text")
    ceo = org_ceo(org.pk)
    if ceo is None:
        raise InvalidInput("This org has no CEO agent to take the backlog; add one first.", field="text")
    path = backlog_path(ceo)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"\n---\n\n### {stamp} ({actor})\n\n{text}\n")
    activity_record(org=org, actor=actor, verb="added to the backlog", obj=ceo, details={"text": text[:500]})
    event_publish(org=org, type=EventType.BACKLOG_UPDATED, data={"ceo_id": ceo.pk, "chars": len(text)})
    return ceo


def backlog_archive(agent: Agent, seen: str) -> bool:
    """After a completed run that was shown ``seen``, move those items out of the backlog.

    Returns True when something was archived. Text appended after ``seen`` stays.
    """
    if not seen.strip():
        return False
    path = backlog_path(agent)
    current = backlog_read(agent)
    if not current.startswith(seen):
        return False  # edited by hand meanwhile: leave it for a human or the next run
    done = path.parent / "backlog-done" / f"{timezone.now():%Y%m%dT%H%M%S}.md"
    done.parent.mkdir(parents=True, exist_ok=True)
    done.write_text(seen, encoding="utf-8")
    path.write_text(current[len(seen) :], encoding="utf-8")
    return True

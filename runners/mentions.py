"""Who an ``@mention`` wakes: one rule for the dispatcher and for the editor's "This wakes @x" line.

A comment on an open issue wakes every agent of the org whose slug it mentions
(``@<slug>``); the dispatcher then skips an agent that is terminated or "needs setup"
(its runner cannot run here). A mention in a description, or on a closed issue, wakes no one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.models import Agent, AgentStatus
from runners.readiness import agent_problem

MENTION_RE = re.compile(r"(?<![\w@.])@([a-z0-9][a-z0-9-]{0,59})")


def mentioned_slugs(body: str) -> list[str]:
    """The ``@slugs`` in ``body``, each once, in the order they first appear."""
    return list(dict.fromkeys(MENTION_RE.findall(body or "")))


def mentioned_agents(*, org_id: int, body: str) -> list[tuple[int, str]]:
    """(id, slug) of the org's agents that ``body`` mentions: the agents a comment's mention wakes."""
    slugs = mentioned_slugs(body)
    if not slugs:
        return []
    return list(Agent.objects.filter(org_id=org_id, slug__in=slugs).values_list("id", "slug"))


@dataclass(frozen=True)
class MentionNote:
    slug: str
    outcome: str  # wakes | needs_setup | unknown | inactive | silent
    detail: str = ""


def mention_outlook(*, org_id: int, body: str, in_comment: bool, issue_open: bool) -> list[MentionNote]:
    """What each mention in ``body`` would do if sent now, by the rule above (before anything is sent)."""
    slugs = mentioned_slugs(body)
    if not slugs:
        return []
    agents = {a.slug: a for a in Agent.objects.filter(org_id=org_id, slug__in=slugs)}
    notes = []
    for slug in slugs:
        agent = agents.get(slug)
        if agent is None:
            notes.append(MentionNote(slug, "unknown", "no agent has this name"))
        elif agent.status == AgentStatus.TERMINATED:
            notes.append(MentionNote(slug, "inactive", "terminated"))
        elif problem := agent_problem(agent):
            notes.append(MentionNote(slug, "needs_setup", problem))
        elif not in_comment:
            notes.append(MentionNote(slug, "silent", "a mention in a description wakes no one; comment to wake"))
        elif not issue_open:
            notes.append(MentionNote(slug, "silent", "the issue is closed"))
        else:
            notes.append(MentionNote(slug, "wakes"))
    return notes

"""Permission-scoped reads of issues."""

from __future__ import annotations

import difflib
import re

from django.db.models import Q

from agents.models import Agent, AgentStatus
from agents.selectors import is_ceo
from issues.models import OPEN_STATUSES, Issue, Label, SavedView, Status
from issues.saved_views import view_owner
from orgs.actors import Actor
from orgs.compiled import compiled_models
from orgs.errors import Forbidden, NotFound
from orgs.models import Org


def issue_get_for(*, actor: Actor, org: Org, key: str) -> Issue:
    """The issue ``key`` of ``org`` if ``actor`` may read it, else NotFound.

    Everyone in an org may read its issues; an agent of another org gets 404 (not
    403) so keys of other orgs are not disclosed.
    """
    if actor.agent is not None and actor.agent.org_id != org.pk:
        raise NotFound(f"There is no issue {key}.")
    rows = _issue_by_key(org.pk, (key or "").upper())
    if not rows:
        raise NotFound(f"There is no issue {key}.")
    found: Issue = rows[0]
    found.org = org
    return found


# The key is unique per org: no ORDER BY, and the caller's org object instead of a join. The most read
# row of the API: compiled once (orgs/compiled.py).
_issue_by_key = compiled_models(
    lambda org_id, key: (
        Issue.objects.select_related("assignee", "parent", "work_block")
        .defer("assignee__env")
        .filter(org_id=org_id, key=key)
        .order_by()[:1]
    )
)


def review_q(agent: Agent) -> Q:
    """Issues ``in_review`` whose review falls to ``agent``.

    The reviewer of an issue is its assignee's ``review_agent``; failing that the
    assignee's manager; failing that (an unassigned issue or a root agent) the
    CEO — a terminated agent counts as missing. Nobody reviews their own work: the
    CEO's own issues go to the board. ``runners.dispatch.reviewer_for`` is the
    same rule for one issue.
    """

    return review_q_for(agent.pk, ceo=is_ceo(agent), terminated=agent.status == AgentStatus.TERMINATED)


def review_q_for(agent_id: int, *, ceo: bool, terminated: bool) -> Q:
    """``review_q`` from the agent's id and what it needs to know of the agent (for compiled queries)."""
    gone = AgentStatus.TERMINATED
    if terminated:
        return Q(pk__in=[])  # a terminated agent reviews nothing (its reviews pass on)
    no_reviewer = Q(assignee__review_agent__isnull=True) | Q(assignee__review_agent__status=gone)
    no_manager = Q(assignee__reports_to__isnull=True) | Q(assignee__reports_to__status=gone)
    mine = Q(assignee__review_agent_id=agent_id) | (no_reviewer & Q(assignee__reports_to_id=agent_id))
    if ceo:
        mine |= Q(assignee__isnull=True) | (no_reviewer & no_manager)
    return Q(status=Status.IN_REVIEW) & mine & ~Q(assignee_id=agent_id)


def board_review_q() -> Q:
    """What needs the humans: ``board_review`` issues, and the CEO's own work ``in_review``
    (nobody reviews their own work, and the CEO has no manager)."""
    ceo_own = Q(assignee__review_agent__isnull=True, assignee__reports_to__isnull=True, assignee__archetype="ceo")
    return Q(status=Status.BOARD_REVIEW) | (Q(status=Status.IN_REVIEW) & ceo_own)


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", text.lower()) if t]


def title_similarity(a: str, b: str) -> float:
    """0..1: the mean of word-set Jaccard and the character-level difflib ratio of normalised titles."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return 0.0
    sa, sb = set(ta), set(tb)
    jaccard = len(sa & sb) / len(sa | sb)
    ratio = difflib.SequenceMatcher(None, " ".join(ta), " ".join(tb)).ratio()
    return round((jaccard + ratio) / 2, 3)


def issue_similar(*, org: Org, title: str, threshold: float = 0.5, limit: int = 10) -> list[tuple[Issue, float]]:
    """Open issues of ``org`` whose titles look like ``title``, best first, with their score."""
    words = _tokens(title)
    if not words:
        return []
    needle = " ".join(words)
    needle_set = set(words)
    scored: list[tuple[float, int, int]] = []
    rows = Issue.objects.filter(org=org, status__in=OPEN_STATUSES, archived_at__isnull=True).values_list(
        "id", "number", "title"
    )
    for pk, number, other in rows:
        tw = _tokens(other)
        if not tw:
            continue
        other_set = set(tw)
        jaccard = len(needle_set & other_set) / len(needle_set | other_set)
        matcher = difflib.SequenceMatcher(None, needle, " ".join(tw))
        # quick_ratio() bounds ratio() from above: skip the expensive exact ratio when even that cannot pass.
        if (jaccard + matcher.quick_ratio()) / 2 < threshold:
            continue
        score = round((jaccard + matcher.ratio()) / 2, 3)
        if score >= threshold:
            scored.append((score, -number, pk))
    scored.sort(reverse=True)
    best = scored[:limit]
    issues = Issue.objects.select_related("assignee").in_bulk([pk for _, _, pk in best])
    return [(issues[pk], score) for score, _, pk in best if pk in issues]


def issues_archived(*, org: Org, limit: int = 200) -> list[Issue]:
    """The org's archived issues, most recently archived first."""
    return list(
        Issue.objects.filter(org=org, archived_at__isnull=False)
        .select_related("assignee")
        .order_by("-archived_at", "-id")[:limit]
    )


def label_get(*, org: Org, label_id: object) -> Label:
    """The label ``label_id`` of ``org`` (archived or not), else NotFound (also for another org's label)."""
    pk = str(label_id or "")
    label = Label.objects.filter(org=org, pk=int(pk)).first() if pk.isdigit() else None
    if label is None:
        raise NotFound("There is no such label.")
    return label


def saved_views_for(*, actor: Actor, org: Org) -> list[SavedView]:
    """``actor``'s saved views in ``org`` (none for actors without views: agents, API keys)."""
    try:
        owner = view_owner(actor)
    except Forbidden:
        return []
    return list(SavedView.objects.filter(org=org, owner=owner).only("id", "name", "query"))


def saved_view_get_for(*, actor: Actor, org: Org, pk: int) -> SavedView:
    """``actor``'s own saved view ``pk`` in ``org``, else NotFound (another person's or org's is not disclosed)."""
    try:
        owner = view_owner(actor)
    except Forbidden as exc:
        raise NotFound("There is no such saved view.") from exc
    view = SavedView.objects.filter(org=org, owner=owner, pk=pk).first()
    if view is None:
        raise NotFound("There is no such saved view.")
    return view

"""Reads of what the org learned, scoped to one org (an org never sees another's rows)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from agents.models import Agent
from learning.models import BoardPolicy, Evaluation, Reflection, Skill, SkillStatus
from orgs.compiled import compiled_models
from orgs.errors import NotFound
from orgs.models import Org

RECENT_REFLECTIONS = 3
MATCHING_REFLECTIONS = 3
_REFLECTION_POOL = 200  # how far back the word match looks
_WORD = re.compile(r"[a-zA-Z][a-zA-Z0-9_-]{3,}")
_STOP = frozenset(
    [
        "this",
        "that",
        "with",
        "from",
        "have",
        "what",
        "when",
        "where",
        "which",
        "will",
        "would",
        "should",
        "could",
        "into",
        "than",
        "then",
        "them",
        "they",
        "their",
        "there",
        "these",
        "those",
        "your",
        "about",
        "after",
        "before",
        "while",
        "does",
        "done",
        "make",
        "made",
        "need",
        "needs",
        "must",
    ]
)


@dataclass(frozen=True)
class LearningSettings:
    """The org's learning switches (in ``Org.settings["learning"]``, written by ``learning_settings_update``)."""

    evaluations: bool = False  # judge every finished task run (off by default: it costs a run each)
    judge: str = ""  # slug of the agent whose runner/model judges; "" = the evaluated agent itself
    auditor: str = ""  # slug of the auditor agent; "" = the org's first agent of archetype auditor
    audit_every_hours: int = 0  # 0 = no scheduled audit (the "Run audit now" button still works)


def learning_settings(org: Org) -> LearningSettings:
    raw = org.settings.get("learning") or {}
    try:
        hours = max(0, int(raw.get("audit_every_hours") or 0))
    except (TypeError, ValueError):
        hours = 0
    return LearningSettings(
        evaluations=bool(raw.get("evaluations", False)),
        judge=str(raw.get("judge") or ""),
        auditor=str(raw.get("auditor") or ""),
        audit_every_hours=hours,
    )


def words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text or "")} - _STOP


# Every run's prompt reads these three (compiled once: orgs/compiled.py).
def _reflection_pool_query(agent_id: int) -> QuerySet[Reflection]:
    return Reflection.objects.filter(agent_id=agent_id).select_related("issue").order_by("-id")[:_REFLECTION_POOL]


def _skills_query(org_id: int, agent_id: int, archetype: str) -> QuerySet[Skill]:
    given = Q(agent_id=agent_id) | Q(agent__isnull=True, archetype=archetype) | Q(agent__isnull=True, archetype="")
    return Skill.objects.filter(org_id=org_id, status=SkillStatus.ACTIVE).filter(given).order_by("title")


def _policies_query(org_id: int) -> QuerySet[BoardPolicy]:
    return BoardPolicy.objects.filter(org_id=org_id, active=True).order_by("id")


_reflection_pool = compiled_models(_reflection_pool_query)
_skills = compiled_models(_skills_query)
_policies = compiled_models(_policies_query)


def reflections_for(agent: Agent, *, about: str = "") -> list[Reflection]:
    """The agent's last few reflections, then older ones sharing the most words with ``about`` (its issue)."""
    pool: list[Reflection] = _reflection_pool(agent.pk)
    recent = pool[:RECENT_REFLECTIONS]
    wanted = words(about)
    scored = []
    for reflection in pool[RECENT_REFLECTIONS:]:
        overlap = len(wanted & words(reflection.text + " " + (reflection.issue.title if reflection.issue else "")))
        if overlap:
            scored.append((overlap, reflection.pk, reflection))
    scored.sort(key=lambda t: (-t[0], -t[1]))
    return recent + [r for _, _, r in scored[:MATCHING_REFLECTIONS]]


def skills_for(agent: Agent) -> list[Skill]:
    """Active skills given to ``agent``: its own, its archetype's, and the org-wide ones."""
    found: list[Skill] = _skills(agent.org_id, agent.pk, agent.archetype)
    return found


def policies_active(org_id: int) -> list[BoardPolicy]:
    found: list[BoardPolicy] = _policies(org_id)
    return found


def policy_get(*, org: Org, policy_id: int | str) -> BoardPolicy:
    policy = BoardPolicy.objects.filter(org=org, pk=int(policy_id) if str(policy_id).isdigit() else -1).first()
    if policy is None:
        raise NotFound(f"No policy {policy_id} in this org.", code="policy_not_found")
    return policy


def skill_get(*, org: Org, slug: str) -> Skill:
    skill = Skill.objects.filter(org=org, slug=slug).select_related("agent").first()
    if skill is None:
        raise NotFound(f"No skill {slug!r} in this org.", code="skill_not_found")
    return skill


def evaluation_of(run_id: int) -> Evaluation | None:
    return Evaluation.objects.filter(run_id=run_id).first()

"""Roll-ups of run evaluations for the Observability and Skills pages: each a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Avg, Count, F, Prefetch, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from learning.models import Evaluation, EvaluationStatus, Reflection, Skill, SkillUse
from orgs.models import Org

TREND_WEEKS = 8
WORST = 20
RECENT_USES = 5
RECENT_REFLECTIONS = 20
AVERAGES = {
    "n": Count("id"),
    "overall": Avg("overall"),
    "fidelity": Avg("fidelity"),
    "scope_drift": Avg("scope_drift"),
    "missed_criteria": Avg("missed_criteria"),
    "unrequested_changes": Avg("unrequested_changes"),
}


@dataclass
class Rollup:
    key: str  # agent slug or archetype
    label: str
    averages: dict[str, Any]
    trend: list[float | None] = field(default_factory=list)  # the weekly average, oldest first


def scored(org: Org) -> QuerySet[Evaluation]:
    return Evaluation.objects.filter(org=org, status=EvaluationStatus.SCORED)


def _weeks() -> list[Any]:
    this_week = timezone.now().date() - timedelta(days=timezone.now().weekday())
    return [this_week - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]


def _trend(org: Org, group: str) -> tuple[list[Any], dict[Any, list[float | None]]]:
    weeks = _weeks()
    rows = (
        scored(org)
        .filter(scored_at__date__gte=weeks[0])
        .annotate(week=TruncWeek("scored_at"))
        .values(group, "week")
        .annotate(avg=Avg("overall"))
        .order_by()
    )
    index = {w: i for i, w in enumerate(weeks)}
    out: dict[Any, list[float | None]] = {}
    for row in rows:
        week = row["week"].date() if hasattr(row["week"], "date") else row["week"]
        if week in index:
            out.setdefault(row[group], [None] * len(weeks))[index[week]] = row["avg"]
    return weeks, out


def by_agent(org: Org) -> tuple[list[Any], list[Rollup]]:
    """Per agent: the averages over all its scored runs and the weekly trend (two queries)."""
    rows = (
        scored(org)
        .values("agent_id", slug=F("agent__slug"), name=F("agent__name"))
        .annotate(**AVERAGES)
        .order_by("overall")
    )
    weeks, trend = _trend(org, "agent_id")
    return weeks, [Rollup(r["slug"], r["name"], dict(r), trend.get(r["agent_id"], [None] * len(weeks))) for r in rows]


def by_archetype(org: Org) -> tuple[list[Any], list[Rollup]]:
    rows = scored(org).values("archetype").annotate(**AVERAGES).order_by("overall")
    weeks, trend = _trend(org, "archetype")
    return weeks, [
        Rollup(r["archetype"], r["archetype"] or "(none)", dict(r), trend.get(r["archetype"], [None] * len(weeks)))
        for r in rows
    ]


def worst_runs(org: Org, *, limit: int = WORST) -> list[Evaluation]:
    return list(scored(org).select_related("agent", "issue", "run").order_by("overall", "-id")[:limit])


def skills_with_scores(org: Org) -> list[Skill]:
    """Every skill with where it was used (counts, and its last runs with their agents and scores) and the
    average evaluation of those runs (two queries)."""
    recent = SkillUse.objects.select_related("run__agent", "run__evaluation").order_by("-run_id")[:RECENT_USES]
    return list(
        Skill.objects.filter(org=org)
        .select_related("agent")
        .prefetch_related(Prefetch("uses", queryset=recent, to_attr="recent_uses"))
        .annotate(
            runs=Count("uses", distinct=True),
            agents=Count("uses__run__agent", distinct=True),
            evaluated=Count("uses__run__evaluation", distinct=True),
            avg_overall=Avg("uses__run__evaluation__overall"),
            avg_fidelity=Avg("uses__run__evaluation__fidelity"),
        )
        .order_by("status", "title")
    )


def recent_reflections(org: Org, *, limit: int = RECENT_REFLECTIONS) -> list[Reflection]:
    return list(Reflection.objects.filter(org=org).select_related("agent", "issue").order_by("-id")[:limit])

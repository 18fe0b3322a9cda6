"""Writes of what the org learns. Every interface (pages, API, the engine) calls these.

Skills, board policies and improvement issues proposed by an agent or the auditor become approvals
(the one approval mechanism); deciding one runs the applier in ``learning/appliers.py``. The board
writes policies directly.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from agents.models import Agent
from approvals.models import Approval, ApprovalKind
from approvals.services import approval_create
from issues.models import Issue
from learning.models import (
    SCORES,
    AuditFinding,
    BoardPolicy,
    Evaluation,
    EvaluationStatus,
    FindingKind,
    Reflection,
    Skill,
    SkillStatus,
    SkillUse,
)
from learning.selectors import learning_settings
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from orgs.models import Org
from orgs.services import activity_record, require_member

REFLECTION_MAX = 1_000
POLICY_MAX = 500
SKILL_BODY_MAX = 8_000


def _board(actor: Actor, org: Org, what: str) -> None:
    require_member(actor, org.pk)
    if not actor.board:
        raise Forbidden(f"Only the board may {what}.", code="board_only")


def _unique_slug(model: type[Skill] | type[BoardPolicy], org: Org, text: str) -> str:
    base = slugify(text)[:60].strip("-") or "item"
    slug, n = base, 1
    while model.objects.filter(org=org, slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


# --- settings -----------------------------------------------------------------------------------


@transaction.atomic
def learning_settings_update(
    *,
    actor: Actor,
    org: Org,
    evaluations: bool | None = None,
    judge: str | None = None,
    auditor: str | None = None,
    audit_every_hours: int | None = None,
) -> Org:
    """Switch run evaluations on or off, name the judge and auditor agents, set the audit schedule."""
    _board(actor, org, "change how the org learns")
    current = dict(org.settings.get("learning") or {})
    wanted = dict(current)
    if evaluations is not None:
        wanted["evaluations"] = bool(evaluations)
    for key, slug in (("judge", judge), ("auditor", auditor)):
        if slug is None:
            continue
        slug = slug.strip()
        if slug and not Agent.objects.filter(org=org, slug=slug).exists():
            raise InvalidInput(f"No agent @{slug} in this org.", field=key)
        wanted[key] = slug
    if audit_every_hours is not None:
        if audit_every_hours < 0 or audit_every_hours > 24 * 30:
            raise InvalidInput("Audit every 0 (never) to 720 hours.", field="audit_every_hours")
        wanted["audit_every_hours"] = int(audit_every_hours)
    if wanted != current:
        org.settings = {**org.settings, "learning": wanted}
        org.save(update_fields=["settings", "updated_at"])
        activity_record(org=org, actor=actor, verb="updated", obj=org, details={"learning": [current, wanted]})
    return org


def learning_mark_audit(*, org: Org) -> None:
    """Remember when the last audit was queued (the schedule counts from it)."""
    current = dict(org.settings.get("learning") or {})
    current["last_audit_at"] = timezone.now().isoformat()
    org.settings = {**org.settings, "learning": current}
    org.save(update_fields=["settings", "updated_at"])


def evaluations_enabled(org: Org) -> bool:
    return learning_settings(org).evaluations


# --- evaluations --------------------------------------------------------------------------------


@transaction.atomic
def evaluation_open(*, run: Any, judge_run: Any, agent: Agent, issue: Issue | None) -> Evaluation:
    """A pending evaluation of task ``run`` whose judge is ``judge_run`` (both ``runners.Run``)."""
    return Evaluation.objects.create(
        org_id=agent.org_id, run=run, judge_run=judge_run, agent=agent, archetype=agent.archetype, issue=issue
    )


@transaction.atomic
def evaluation_record(
    *,
    evaluation: Evaluation,
    status: str,
    scores: dict[str, float] | None = None,
    reasons: dict[str, str] | None = None,
    verdict: str = "",
    raw: str = "",
    error: str = "",
) -> Evaluation:
    """Store the judge's answer: the scores (each 0–1) and verdict, or why there are none."""
    if status not in EvaluationStatus.values or status == EvaluationStatus.PENDING:
        raise InvalidInput(f"{status!r} is not a final evaluation status.", field="status")
    fields: dict[str, Any] = {
        "status": status,
        "reasons": {k: str(v)[:500] for k, v in (reasons or {}).items()},
        "verdict": verdict[:300],
        "raw": raw[:20_000],
        "error": error[:300],
        "scored_at": timezone.now(),
    }
    if status == EvaluationStatus.SCORED:
        values = scores or {}
        if set(values) != set(SCORES) or any(not 0.0 <= float(v) <= 1.0 for v in values.values()):
            raise InvalidInput("An evaluation has the four scores, each between 0 and 1.", field="scores")
        fields.update({name: float(values[name]) for name in SCORES})
        good = [values["fidelity"], *(1.0 - values[n] for n in SCORES[1:])]
        fields["overall"] = round(sum(good) / len(good), 4)
    if not Evaluation.objects.filter(pk=evaluation.pk, status=EvaluationStatus.PENDING).update(**fields):
        raise Conflict(f"Evaluation {evaluation.pk} was already recorded.", code="evaluation_recorded")
    for name, value in fields.items():
        setattr(evaluation, name, value)
    return evaluation


# --- reflections --------------------------------------------------------------------------------


@transaction.atomic
def reflection_record(*, agent: Agent, run: Any, issue: Issue | None, text: str) -> Reflection | None:
    """Keep what ``agent`` said it learned in ``run``; None when it said nothing."""
    text = " ".join((text or "").split())
    if not text:
        return None
    if len(text) > REFLECTION_MAX:
        text = text[:REFLECTION_MAX] + "…"
    return Reflection.objects.create(org_id=agent.org_id, agent=agent, run=run, issue=issue, text=text)


# --- skills -------------------------------------------------------------------------------------


def _skill_target(org: Org, archetype: str, agent: Agent | None) -> tuple[str, Agent | None]:
    if agent is not None and agent.org_id != org.pk:
        raise InvalidInput("That agent belongs to another org.", field="agent")
    return (archetype or "").strip()[:60], agent


@transaction.atomic
def skill_propose(
    *,
    actor: Actor,
    org: Org,
    title: str,
    body: str,
    archetype: str = "",
    agent: Agent | None = None,
    reason: str = "",
) -> Skill:
    """Propose a skill; the board decides through an approval. The board's own skill is active at once."""
    require_member(actor, org.pk)
    title = " ".join((title or "").split())[:200]
    body = (body or "").strip()
    if not title:
        raise InvalidInput("A skill needs a title.", field="title")
    if not body:
        raise InvalidInput("A skill needs a body: the instruction or script that worked.", field="body")
    if len(body) > SKILL_BODY_MAX:
        raise InvalidInput(f"A skill's body is at most {SKILL_BODY_MAX} characters.", field="body")
    archetype, agent = _skill_target(org, archetype, agent)
    direct = actor.board and not actor.is_agent
    skill = Skill.objects.create(
        org=org,
        slug=_unique_slug(Skill, org, title),
        title=title,
        body=body,
        archetype=archetype,
        agent=agent,
        status=SkillStatus.ACTIVE if direct else SkillStatus.PROPOSED,
        proposed_by_label=str(actor)[:100],
    )
    activity_record(org=org, actor=actor, verb="added" if direct else "proposed", obj=skill)
    if not direct:
        approval_create(
            actor=actor,
            org=org,
            kind=ApprovalKind.SKILL_PROPOSE,
            title=f"Adopt the skill “{title}” for {skill.target}",
            reason=(reason or "").strip() or body[:2000],
            subject_agent=agent,
            payload={"skill_id": skill.pk, "skill": skill.slug},
        )
    return skill


@transaction.atomic
def skill_decide(*, actor: Actor, skill: Skill, approve: bool) -> Skill:
    """Adopt or reject a proposed skill (called by the approval's applier)."""
    to = SkillStatus.ACTIVE if approve else SkillStatus.REJECTED
    if not Skill.objects.filter(pk=skill.pk, status=SkillStatus.PROPOSED).update(status=to):
        raise Conflict(f"The skill {skill.slug} is no longer proposed.", code="stale")
    skill.status = to
    activity_record(org=skill.org, actor=actor, verb="adopted" if approve else "rejected", obj=skill)
    return skill


@transaction.atomic
def skill_retire(*, actor: Actor, skill: Skill) -> Skill:
    _board(actor, skill.org, "retire a skill")
    if not Skill.objects.filter(pk=skill.pk, status=SkillStatus.ACTIVE).update(status=SkillStatus.RETIRED):
        raise Conflict(f"The skill {skill.slug} is not active.", code="not_active")
    skill.status = SkillStatus.RETIRED
    activity_record(org=skill.org, actor=actor, verb="retired", obj=skill)
    return skill


def skill_uses_record(*, run_id: int, skill_ids: list[int]) -> None:
    """The run's prompt carried these skills (the skills page shows where each was used)."""
    SkillUse.objects.bulk_create([SkillUse(skill_id=s, run_id=run_id) for s in skill_ids], ignore_conflicts=True)


# --- board policies -----------------------------------------------------------------------------


def _policy_text(text: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise InvalidInput("A policy is a short directive, e.g. “Never touch billing without approval”.", field="text")
    if len(text) > POLICY_MAX:
        raise InvalidInput(f"A policy is at most {POLICY_MAX} characters.", field="text")
    return text


@transaction.atomic
def policy_create(*, actor: Actor, org: Org, text: str, active: bool = True) -> BoardPolicy:
    """The board writes a directive for every prompt of the org."""
    _board(actor, org, "write board policies")
    text = _policy_text(text)
    policy = BoardPolicy.objects.create(
        org=org, slug=_unique_slug(BoardPolicy, org, text), text=text, active=active, created_by_label=str(actor)[:100]
    )
    activity_record(org=org, actor=actor, verb="created", obj=policy)
    return policy


@transaction.atomic
def policy_update(
    *, actor: Actor, policy: BoardPolicy, text: str | None = None, active: bool | None = None
) -> BoardPolicy:
    _board(actor, policy.org, "change board policies")
    changes: dict[str, Any] = {}
    if text is not None:
        clean = _policy_text(text)
        if clean != policy.text:
            changes["text"] = [policy.text, clean]
            policy.text = clean
    if active is not None and bool(active) != policy.active:
        changes["active"] = [policy.active, bool(active)]
        policy.active = bool(active)
    if changes:
        policy.save(update_fields=["text", "active", "updated_at"])
        activity_record(org=policy.org, actor=actor, verb="updated", obj=policy, details={"changes": changes})
    return policy


@transaction.atomic
def policy_propose(*, actor: Actor, org: Org, text: str, reason: str = "") -> Approval:
    """An agent (the auditor) asks the board to adopt a policy."""
    require_member(actor, org.pk)
    text = _policy_text(text)
    return approval_create(
        actor=actor,
        org=org,
        kind=ApprovalKind.POLICY_PROPOSE,
        title=f"Adopt the board policy “{text[:200]}”",
        reason=reason,
        payload={"text": text},
    )


# --- improvement issues and audit findings ------------------------------------------------------


@transaction.atomic
def issue_propose(
    *, actor: Actor, org: Org, title: str, description: str = "", acceptance_criteria: str = "", reason: str = ""
) -> Approval:
    """An agent (the auditor) asks the board to file an improvement issue."""
    require_member(actor, org.pk)
    title = " ".join((title or "").split())[:200]
    if not title:
        raise InvalidInput("An improvement issue needs a title.", field="title")
    return approval_create(
        actor=actor,
        org=org,
        kind=ApprovalKind.ISSUE_PROPOSE,
        title=f"File the issue “{title}”",
        reason=reason,
        payload={"title": title, "description": description[:8000], "acceptance_criteria": acceptance_criteria[:4000]},
    )


@transaction.atomic
def audit_finding_record(
    *,
    run: Any,
    kind: str,
    title: str,
    body: str = "",
    approval: Approval | None = None,
    error: str = "",
) -> AuditFinding:
    if kind not in FindingKind.values:
        raise InvalidInput(f"Unknown finding kind {kind!r}.", field="kind")
    return AuditFinding.objects.create(
        org_id=run.org_id,
        run=run,
        kind=kind,
        title=(" ".join((title or "").split()) or "(untitled)")[:300],
        body=(body or "")[:8000],
        approval=approval,
        error=error[:300],
    )

"""Audit mode: the auditor agent reviews recently shipped work with its evaluations and proposes
improvements: archetype patches (the archetypes app's diff-and-rollback approval), skills, board
policies and improvement issues. Every proposal becomes an approval; each finding is stored with the
audit run (``learning.AuditFinding``).

An audit is an issue-less run of mode ``audit`` of the org's auditor (Settings → learning names it,
else the first agent of archetype ``auditor``), queued by "Run audit now" or by the org's schedule
(``audit_every_hours``, checked on scheduler passes). It may read transcripts through the runs API
during the run; it answers with one JSON object of findings, which Mesa files.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents.models import Agent, AgentStatus
from approvals.models import Approval
from archetypes.services import archetype_patch_create
from issues.models import Issue, Status
from learning.models import Evaluation, EvaluationStatus, FindingKind, Skill, SkillStatus
from learning.selectors import learning_settings, policies_active
from learning.services import (
    audit_finding_record,
    issue_propose,
    learning_mark_audit,
    policy_propose,
    skill_propose,
)
from orgs.actors import Actor
from orgs.errors import Forbidden, InvalidInput, MesaError
from orgs.models import Org
from orgs.services import require_member
from runners.judge import json_objects
from runners.models import Run, RunMode, RunStatus
from runners.prompt import Prompt, api_cheat_sheet, role_text
from runners.services import run_enqueue_one_turn

log = logging.getLogger(__name__)

LOOKBACK_DAYS = 7
SHIPPED_MAX = 30
FINDINGS_MAX = 20
SCHEDULE_CHECK_S = 60.0

AUDIT_RULES = """AUDIT RUN (no issue to check out: this run's answer is your report, and Mesa files each proposal
for you; do not also submit them through the API). Review the work shipped recently (listed above with the
judge's evaluations; read a run's transcript with the runs API when you need to). Look for patterns: repeated
mistakes, drift from the issues, missed acceptance criteria, rules a role lacks. Propose only what would prevent
a real, observed problem. Every proposal goes to the humans for approval; nothing takes effect on its own.
Answer with ONE JSON object as your final message, exactly this shape (any list may be empty):
{"findings": [
  {"kind": "note", "title": "...", "body": "what you observed, citing issue keys and run ids"},
  {"kind": "archetype_patch", "title": "...", "body": "why", "archetype": "backend",
   "proposed_text": "the FULL new text of that archetype"},
  {"kind": "skill", "title": "...", "body": "the reusable instruction", "archetype": "qa or empty",
   "agent": "an agent slug or empty"},
  {"kind": "policy", "title": "...", "text": "a short directive for every agent", "body": "why"},
  {"kind": "issue", "title": "...", "body": "why", "description": "...", "acceptance_criteria": "..."}
]}"""


def auditor_for(org: Org) -> Agent | None:
    slug = learning_settings(org).auditor
    agents = Agent.objects.filter(org=org).exclude(status=AgentStatus.TERMINATED)
    if slug:
        return agents.filter(slug=slug).first()
    return agents.filter(archetype="auditor").order_by("id").first()


@transaction.atomic
def audit_request(*, actor: Actor, org: Org) -> Run:
    """Queue an audit run now ("Run audit now", or the schedule)."""
    require_member(actor, org.pk)
    if not actor.board:
        raise Forbidden("Only the board may start an audit.", code="board_only")
    auditor = auditor_for(org)
    if auditor is None:
        raise InvalidInput("No auditor: hire an agent of archetype auditor, or name one in Settings.", field="auditor")
    run = run_enqueue_one_turn(agent=auditor, mode=RunMode.AUDIT, reason=f"audit requested by {actor}")
    learning_mark_audit(org=org)
    return run


def _last_audit(org: Org) -> datetime | None:
    raw = (org.settings.get("learning") or {}).get("last_audit_at")
    try:
        return datetime.fromisoformat(raw) if raw else None
    except (TypeError, ValueError):
        return None


_next_check = 0.0


def audits_due() -> list[Run]:
    """Queue the audits whose schedule is due (a scheduler periodic; checks once a minute)."""
    global _next_check
    now = time.monotonic()
    if now < _next_check:
        return []
    _next_check = now + SCHEDULE_CHECK_S
    queued = []
    for org in Org.objects.filter(settings__learning__audit_every_hours__gt=0):
        hours = learning_settings(org).audit_every_hours
        last = _last_audit(org)
        if last is not None and timezone.now() - last < timedelta(hours=hours):
            continue
        if Run.objects.filter(org=org, mode=RunMode.AUDIT, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).exists():
            continue
        try:
            queued.append(audit_request(actor=Actor.system("audit schedule"), org=org))
        except MesaError as exc:
            log.info("scheduled audit of %s not queued: %s", org.slug, exc.message)
    return queued


def _shipped(org_id: int) -> list[str]:
    since = timezone.now() - timedelta(days=LOOKBACK_DAYS)
    issues = list(
        Issue.objects.filter(org_id=org_id, status=Status.DONE, updated_at__gte=since)
        .select_related("assignee", "work_block")
        .order_by("-updated_at")[:SHIPPED_MAX]
    )
    evaluations: dict[int, list[Evaluation]] = {}
    for ev in Evaluation.objects.filter(issue__in=issues, status=EvaluationStatus.SCORED).order_by("id"):
        evaluations.setdefault(ev.issue_id or 0, []).append(ev)
    lines = []
    for issue in issues:
        who = f" by @{issue.assignee.slug}" if issue.assignee else ""
        block = f" [work block: {issue.work_block.title}]" if issue.work_block else ""
        lines.append(f"- {issue.key} {issue.title}{who}{block}")
        for ev in evaluations.get(issue.pk, []):
            lines.append(
                f"    run {ev.run_id}: overall {ev.overall:.2f}, fidelity {ev.fidelity:.2f}, "
                f"drift {ev.scope_drift:.2f}, missed {ev.missed_criteria:.2f}, "
                f"unrequested {ev.unrequested_changes:.2f} — {ev.verdict}"
            )
    return lines


def audit_prompt(run: Run) -> Prompt:
    org_id = run.org_id
    parts = []
    policies = policies_active(org_id)
    if policies:
        parts.append("BOARD POLICIES in force:\n" + "\n".join(f"- {p.text}" for p in policies))
    shipped = _shipped(org_id)
    parts.append(
        f"SHIPPED in the last {LOOKBACK_DAYS} days (newest first, with evaluations):\n"
        + ("\n".join(shipped) if shipped else "(nothing shipped)")
    )
    worst = Evaluation.objects.filter(org_id=org_id, status=EvaluationStatus.SCORED).order_by("overall", "-id")[:10]
    if worst:
        parts.append(
            "WORST evaluated runs:\n"
            + "\n".join(
                f"- run {e.run_id} (@{e.agent.slug}, {e.archetype}): {e.overall:.2f} — {e.verdict}"
                for e in worst.select_related("agent")
            )
        )
    skills = Skill.objects.filter(org_id=org_id, status=SkillStatus.ACTIVE).order_by("title")
    if skills:
        parts.append(
            "SKILLS in use:\n" + "\n".join(f"- {s.title} ({s.target})" for s in skills.select_related("agent"))
        )
    parts.append(AUDIT_RULES)
    parts.append(api_cheat_sheet(ceo=False))
    return Prompt(system=role_text(run.agent), task="\n\n".join(parts) + "\n")


def _text(finding: dict[str, Any], key: str) -> str:
    value = finding.get(key)
    return value.strip() if isinstance(value, str) else ""


def _file(actor: Actor, org: Org, kind: str, finding: dict[str, Any]) -> Approval | None:
    """Turn one proposal into its approval (through the proposing service); None for a note."""
    title, body = _text(finding, "title"), _text(finding, "body")
    if kind == FindingKind.ARCHETYPE_PATCH:
        patch = archetype_patch_create(
            actor=actor,
            org=org,
            archetype=_text(finding, "archetype"),
            proposed_text=str(finding.get("proposed_text") or ""),
            reason=body or title,
        )
        return patch.approvals.order_by("-id").first()
    if kind == FindingKind.SKILL:
        slug = _text(finding, "agent").lstrip("@")
        agent = Agent.objects.filter(org=org, slug=slug).first() if slug else None
        if slug and agent is None:
            raise InvalidInput(f"No agent @{slug} in this org.", field="agent")
        skill = skill_propose(
            actor=actor, org=org, title=title, body=body, archetype=_text(finding, "archetype"), agent=agent
        )
        return Approval.objects.filter(org=org, payload__skill_id=skill.pk).order_by("-id").first()
    if kind == FindingKind.POLICY:
        return policy_propose(actor=actor, org=org, text=_text(finding, "text") or title, reason=body)
    if kind == FindingKind.ISSUE:
        return issue_propose(
            actor=actor,
            org=org,
            title=title,
            description=_text(finding, "description") or body,
            acceptance_criteria=_text(finding, "acceptance_criteria"),
            reason=body,
        )
    return None


def audit_record(run: Run, status: str, text: str) -> int:
    """File the audit's findings (each proposal through approvals); returns how many were stored."""
    if status != RunStatus.COMPLETED:
        audit_finding_record(run=run, kind=FindingKind.NOTE, title=f"The audit run ended {status}", body=text[-4000:])
        return 1
    answers = [o for o in json_objects(text or "") if isinstance(o.get("findings"), list)]
    if not answers:
        audit_finding_record(
            run=run,
            kind=FindingKind.NOTE,
            title="The auditor's answer holds no findings list",
            body=text[-4000:],
            error="malformed answer",
        )
        return 1
    actor = Actor.for_agent(run.agent)
    stored = 0
    for finding in answers[-1]["findings"][:FINDINGS_MAX]:
        if not isinstance(finding, dict):
            continue
        kind = _text(finding, "kind")
        kind = kind if kind in FindingKind.values else FindingKind.NOTE
        body = _text(finding, "body")
        if kind == FindingKind.ARCHETYPE_PATCH and finding.get("proposed_text"):
            body = f"{body}\n\n(archetype {_text(finding, 'archetype')}: full text proposed, see the approval's diff)"
        approval, error = None, ""
        try:
            with transaction.atomic():
                approval = _file(actor, run.org, kind, finding)
        except MesaError as exc:
            error = exc.message
        audit_finding_record(
            run=run,
            kind=kind,
            title=_text(finding, "title") or _text(finding, "text") or json.dumps(finding)[:200],
            body=body,
            approval=approval,
            error=error,
        )
        stored += 1
    return stored

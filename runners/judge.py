"""Run evaluations: after a task run (when the org enables it) a judge scores it in one turn.

The judge is an ordinary issue-less run of mode ``evaluation`` (``learning.Evaluation`` links it to
the task run it judges), queued like any run, executed by the same runners (the org's judge agent's
runner and model, else the evaluated agent's own) and budgeted against that agent. It is fed the
issue with its acceptance criteria, the agent's role rules, the run's diff and the tail of its
transcript, each capped, and answers with one JSON object; an answer that is not one is stored as
``malformed`` with the raw text, never guessed at.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import transaction

from agents.models import Agent, AgentStatus
from learning.models import SCORES, Evaluation, EvaluationStatus
from learning.selectors import learning_settings, policies_active
from learning.services import evaluation_open, evaluation_record
from runners.models import Run, RunEvent, RunMode, RunStatus
from runners.prompt import Prompt, role_text
from runners.services import run_enqueue_one_turn

log = logging.getLogger(__name__)

DIFF_MAX = 12_000
TRANSCRIPT_MAX = 6_000
ROLE_MAX = 4_000
TRANSCRIPT_EVENTS = 80

JUDGE_SYSTEM = """You are a strict, fair JUDGE of work done by an AI agent on a software team. You do not
do the work and you run no tools: you read what is given and answer in one message."""

JUDGE_RULES = """Score the run against the issue and its acceptance criteria. Each score is a number from 0 to 1:
- fidelity: how well the work does what the issue asks (1 = exactly what was asked, 0 = none of it);
- scope_drift: how far the work wandered from the issue (0 = stayed in scope, 1 = mostly about other things);
- missed_criteria: the share of acceptance criteria (or, without any, of what the description asks) left
  unmet (0 = none missed, 1 = all missed);
- unrequested_changes: how much was changed that nobody asked for (0 = nothing, 1 = mostly unrequested).
Answer with ONE JSON object and nothing else, exactly this shape:
{"fidelity": {"score": 0.9, "reason": "..."}, "scope_drift": {"score": 0.1, "reason": "..."},
 "missed_criteria": {"score": 0.0, "reason": "..."}, "unrequested_changes": {"score": 0.0, "reason": "..."},
 "verdict": "one line for the humans"}
Each reason is one short sentence."""


def _clip_tail(text: str, n: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= n else "…" + text[-n:]


def _clip_head(text: str, n: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= n else text[:n] + f"\n… [{len(text) - n} more characters cut]"


def judge_agent(run: Run) -> Agent:
    """The org's judge (Settings → learning), when it names an active agent; else the evaluated agent."""
    slug = learning_settings(run.org).judge
    if slug:
        judge = Agent.objects.filter(org_id=run.org_id, slug=slug).exclude(status=AgentStatus.TERMINATED).first()
        if judge is not None:
            return judge
    return run.agent


@transaction.atomic
def evaluation_request(run: Run) -> Evaluation | None:
    """Queue the judge for a completed task run, when the org has evaluations on; None otherwise."""
    if run.mode != RunMode.TASK or run.issue_id is None or run.status != RunStatus.COMPLETED:
        return None
    if not learning_settings(run.org).evaluations or Evaluation.objects.filter(run=run).exists():
        return None
    judge = judge_agent(run)
    key = run.issue.key if run.issue is not None else ""
    judge_run = run_enqueue_one_turn(
        agent=judge, mode=RunMode.EVALUATION, reason=f"evaluate run {run.pk} of @{run.agent.slug} on {key}"
    )
    return evaluation_open(run=run, judge_run=judge_run, agent=run.agent, issue=run.issue)


def transcript_tail(run: Run, *, limit: int = TRANSCRIPT_MAX) -> str:
    """The end of a run's transcript as plain lines (what the agent said and did), capped at ``limit``."""
    events = list(RunEvent.objects.filter(run=run).order_by("-seq")[:TRANSCRIPT_EVENTS])
    events.reverse()
    lines = []
    for event in events:
        data = event.data or {}
        if event.type == "tool_use":
            said = f"{data.get('name', 'tool')} {json.dumps(data.get('input'), default=str)[:400]}"
        else:
            value = next((data.get(k) for k in ("text", "result", "content", "message") if data.get(k)), "")
            said = str(value)[:800]
        if said.strip():
            lines.append(f"[{event.type}] {said.strip()}")
    return _clip_tail("\n".join(lines), limit)


def judge_prompt(judge_run: Run) -> Prompt:
    evaluation = Evaluation.objects.select_related("run__agent__org", "issue").get(judge_run=judge_run)
    subject, issue = evaluation.run, evaluation.issue
    parts = []
    policies = policies_active(judge_run.org_id)
    if policies:
        parts.append("BOARD POLICIES (the org's standing directives):\n" + "\n".join(f"- {p.text}" for p in policies))
    if issue is not None:
        block = [f"ISSUE {issue.key}: {issue.title}", "", "Description:", issue.description.strip() or "(none)"]
        criteria = issue.acceptance_criteria.strip()
        block += ["", "Acceptance criteria:", criteria or "(none written)"]
        parts.append("\n".join(block))
    parts.append(f"ROLE RULES of @{subject.agent.slug}:\n{_clip_head(role_text(subject.agent), ROLE_MAX)}")
    parts.append(f"DIFF of run {subject.pk} (capped):\n{_clip_head(subject.diff, DIFF_MAX) or '(no changes)'}")
    parts.append(f"TRANSCRIPT TAIL of run {subject.pk} (capped):\n{transcript_tail(subject) or '(empty)'}")
    parts.append(JUDGE_RULES)
    return Prompt(system=JUDGE_SYSTEM, task="\n\n".join(parts) + "\n")


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object in ``text`` (a model may wrap its answer in prose or a code fence)."""
    decoder = json.JSONDecoder()
    found, i = [], text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except ValueError:
            i = text.find("{", i + 1)
            continue
        if isinstance(obj, dict):
            found.append(obj)
        i = text.find("{", end)
    return found


def _score(value: Any) -> tuple[float, str] | None:
    if isinstance(value, dict):
        value, reason = value.get("score"), value.get("reason", "")
    else:
        reason = ""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        return None
    return float(value), str(reason or "")


def judge_parse(text: str) -> tuple[dict[str, float], dict[str, str], str] | str:
    """(scores, reasons, verdict) from the judge's answer, or a string saying why it is malformed."""
    candidates = [o for o in json_objects(text or "") if any(name in o for name in SCORES)]
    if not candidates:
        return "the judge's answer holds no JSON object with scores"
    answer = candidates[-1]
    scores: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for name in SCORES:
        parsed = _score(answer.get(name))
        if parsed is None:
            return f"{name} is missing or not a number between 0 and 1"
        scores[name], reasons[name] = parsed
    verdict = " ".join(str(answer.get("verdict") or "").split())
    if not verdict:
        return "the verdict is missing"
    return scores, reasons, verdict


def judge_record(judge_run: Run, status: str, text: str) -> Evaluation | None:
    """Store what the judge said (or that it failed) on the evaluation it was queued for."""
    evaluation = Evaluation.objects.filter(judge_run=judge_run, status=EvaluationStatus.PENDING).first()
    if evaluation is None:
        return None
    if status != RunStatus.COMPLETED:
        why = Run.objects.filter(pk=judge_run.pk).values_list("failure_reason", flat=True).first() or status
        return evaluation_record(
            evaluation=evaluation, status=EvaluationStatus.FAILED, raw=text, error=f"judge run {status}: {why}"
        )
    parsed = judge_parse(text)
    if isinstance(parsed, str):
        return evaluation_record(evaluation=evaluation, status=EvaluationStatus.MALFORMED, raw=text, error=parsed)
    scores, reasons, verdict = parsed
    return evaluation_record(
        evaluation=evaluation,
        status=EvaluationStatus.SCORED,
        scores=scores,
        reasons=reasons,
        verdict=verdict,
        raw=text,
    )

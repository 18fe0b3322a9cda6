"""Stages: an ordered checklist inside an issue, with a current stage and a progress percentage.

Agents set and complete stages through the API, or (as in the original Mesa) with comment markers:
a line ``Stages: [Design], [Build], [Test]`` sets them, a line ``Stage 2: Build - Complete`` completes
stage 2, and Mesa answers "Stage 2 acknowledged. Progress: 67%". Unlike the original, markers inside
fenced code blocks are ignored (an agent quoting the syntax does not trigger it), a marker that cannot
apply gets an answer saying why instead of failing silently, and stages complete in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from issues.models import Issue, IssueStage
from issues.permissions import edit_checked
from orgs.actors import Actor
from orgs.errors import Conflict, InvalidInput, MesaError, NotFound
from orgs.events import EventType, event_publish
from orgs.services import activity_record

MAX_STAGES = 30
MAX_TITLE = 200
FENCE_RE = re.compile(r"^```.*?^```", re.S | re.M)
STAGES_RE = re.compile(r"^[ \t]*stages[ \t]*:[ \t]*(\[.*)$", re.I | re.M)
TITLE_RE = re.compile(r"\[([^\[\]]+)\]")
COMPLETE_RE = re.compile(r"^[ \t]*stage[ \t]+(\d+)[ \t]*:.*?[-–—][ \t]*complete[d]?[ \t]*[.!]?[ \t]*$", re.I | re.M)


@dataclass(frozen=True)
class StageMarkers:
    titles: list[str] | None  # a "Stages:" line (the last one wins)
    completed: list[int]  # "Stage N: … - Complete" lines, in order


def parse_stage_markers(body: str) -> StageMarkers:
    text = FENCE_RE.sub("", body or "")
    titles = None
    for match in STAGES_RE.finditer(text):
        titles = [t.strip() for t in TITLE_RE.findall(match.group(1)) if t.strip()]
    completed = [int(m.group(1)) for m in COMPLETE_RE.finditer(text)]
    return StageMarkers(titles=titles or None, completed=completed)


@dataclass(frozen=True)
class Progress:
    stages: list[IssueStage]
    current: int  # the first stage not done, the last when all are, 0 without stages
    percent: int

    @property
    def done(self) -> int:
        return sum(1 for s in self.stages if s.done)


def stage_progress(issue: Issue) -> Progress:
    stages = list(IssueStage.objects.filter(issue=issue).order_by("number"))
    if not stages:
        return Progress(stages=[], current=0, percent=0)
    pending = [s.number for s in stages if not s.done]
    done = len(stages) - len(pending)
    return Progress(
        stages=stages, current=pending[0] if pending else stages[-1].number, percent=round(done * 100 / len(stages))
    )


def _clean_titles(titles: list[str]) -> list[str]:
    cleaned = [" ".join(str(t).split()) for t in titles]
    if not cleaned or len(cleaned) > MAX_STAGES:
        raise InvalidInput(f"Give 1 to {MAX_STAGES} stages.", field="stages")
    if any(not t or len(t) > MAX_TITLE for t in cleaned):
        raise InvalidInput(f"Each stage needs a title of at most {MAX_TITLE} characters.", field="stages")
    return cleaned


def _publish(actor: Actor, issue: Issue, verb: str, progress: Progress, **details: object) -> None:
    activity_record(org=issue.org, actor=actor, verb=verb, obj=issue, details={"progress": progress.percent, **details})
    event_publish(
        org=issue.org,
        type=EventType.ISSUE_UPDATED,
        data={
            "key": issue.key,
            "id": issue.pk,
            "title": issue.title,
            "status": issue.status,
            "assignee_id": issue.assignee_id,
            "changes": ["stages"],
            "current_stage": progress.current,
            "progress": progress.percent,
            "actor_agent_id": actor.agent.pk if actor.agent else None,
        },
    )


@transaction.atomic
def do_stages_set(*, actor: Actor, issue: Issue, titles: list[str]) -> Progress:
    """Replace the checklist. Leading stages whose titles are unchanged keep their done state."""
    titles = _clean_titles(titles)
    old = list(IssueStage.objects.select_for_update().filter(issue=issue).order_by("number"))
    keep = 0
    for stage, title in zip(old, titles, strict=False):
        if stage.title != title or not stage.done:
            break
        keep += 1
    IssueStage.objects.filter(issue=issue, number__gt=keep).delete()
    IssueStage.objects.bulk_create(
        IssueStage(issue=issue, number=n, title=t) for n, t in enumerate(titles, start=1) if n > keep
    )
    progress = stage_progress(issue)
    _publish(actor, issue, "set stages", progress, stages=titles)
    return progress


@transaction.atomic
def do_stage_complete(*, actor: Actor, issue: Issue, number: int) -> Progress:
    """Mark stage ``number`` done; the stages before it must be done already. Completing it again is a no-op."""
    stage = IssueStage.objects.filter(issue=issue, number=number).first()
    if stage is None:
        raise NotFound(f"{issue.key} has no stage {number}.")
    if stage.done:
        return stage_progress(issue)
    earlier = IssueStage.objects.filter(issue=issue, number__lt=number, done=False).order_by("number").first()
    if earlier is not None:
        raise Conflict(
            f"Stage {earlier.number} ({earlier.title}) is not complete yet; stages complete in order.",
            code="stage_order",
        )
    # Conditional: of two concurrent completions only one records the change.
    if IssueStage.objects.filter(pk=stage.pk, done=False).update(done=True, completed_at=timezone.now()):
        progress = stage_progress(issue)
        _publish(actor, issue, "completed stage", progress, stage=number)
        return progress
    return stage_progress(issue)


stages_set = edit_checked(
    do_stages_set, name="stages_set", doc="Replace an issue's stages, if ``actor`` may edit it (else Forbidden)."
)
stage_complete = edit_checked(
    do_stage_complete,
    name="stage_complete",
    doc="Complete one stage, if ``actor`` may edit the issue (else Forbidden).",
)


def stage_markers_apply(*, actor: Actor, issue: Issue, body: str) -> list[str]:
    """Apply the markers in a comment ``actor`` may post; the answers Mesa gives, one line each."""
    markers = parse_stage_markers(body)
    answers: list[str] = []
    if markers.titles:
        try:
            progress = do_stages_set(actor=actor, issue=issue, titles=markers.titles)
        except MesaError as exc:
            answers.append(f"Stages not set: {exc.message}")
        else:
            listed = "; ".join(f"{s.number}. {s.title}" for s in progress.stages)
            answers.append(f"Stages set: {listed}. Progress: {progress.percent}%")
    for number in markers.completed:
        try:
            progress = do_stage_complete(actor=actor, issue=issue, number=number)
        except MesaError as exc:
            answers.append(f"Stage {number} not acknowledged: {exc.message}")
        else:
            answers.append(f"Stage {number} acknowledged. Progress: {progress.percent}%")
    return answers

"""Routines: recurring work per agent on a cron schedule, fired by the scheduler's periodic pass.

A fire is claimed by moving ``next_fire_at`` forward with a conditional update on its old value:
of two schedulers only one wins, and a fire missed while no scheduler ran happens once on restart.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from django.db import transaction
from django.utils import timezone

from agents.models import Agent
from hooks.models import Concurrency, LogKind, Routine, RoutineAction
from hooks.services import log
from hooks.templating import render
from issues.models import TERMINAL_STATUSES, Issue
from issues.services import issue_create
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput, MesaError
from runners.models import ACTIVE_RUN_STATUSES, Run
from runners.services import run_enqueue


def next_fire(cron: str, tz: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` that ``cron`` names in timezone ``tz`` (aware, any zone)."""
    local = after.astimezone(ZoneInfo(tz))
    return croniter(cron, local).get_next(datetime)


@transaction.atomic
def routine_create(
    *,
    actor: Actor,
    agent: Agent,
    name: str,
    cron: str,
    title_template: str,
    body_template: str = "",
    tz: str = "UTC",
    action: str = RoutineAction.ISSUE,
    concurrency: str = Concurrency.SKIP,
    now: datetime | None = None,
) -> Routine:
    if actor.agent is not None or not actor.board:
        raise Forbidden("Only the board may create routines.", code="board_only")
    if not croniter.is_valid(cron):
        raise InvalidInput(f"{cron!r} is not a cron expression (five fields: m h dom mon dow).", field="cron")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"Unknown timezone {tz!r}.", field="timezone") from exc
    if action not in RoutineAction.values:
        raise InvalidInput(f"Unknown action {action!r}.", field="action")
    if concurrency not in Concurrency.values:
        raise InvalidInput(f"Unknown concurrency {concurrency!r}.", field="concurrency")
    return Routine.objects.create(
        org_id=agent.org_id,
        agent=agent,
        name=name.strip()[:100] or "routine",
        cron=cron,
        timezone=tz,
        action=action,
        title_template=title_template,
        body_template=body_template,
        concurrency=concurrency,
        next_fire_at=next_fire(cron, tz, now or timezone.now()),
    )


def _busy(routine: Routine) -> str:
    """Why a ``skip`` routine must not fire now; empty when it may."""
    last = routine.last_issue
    if last is None:
        return ""
    if last.status not in TERMINAL_STATUSES:
        return f"its last issue {last.key} is still {last.status}"
    if Run.objects.filter(issue=last, status__in=ACTIVE_RUN_STATUSES).exists():
        return f"a run on {last.key} is still going"
    return ""


def _fire(routine: Routine, *, at: datetime, force: bool = False) -> None:
    org = routine.org
    if routine.concurrency == Concurrency.SKIP and not force:
        busy = _busy(routine)
        if busy:
            log(org=org, kind=LogKind.ROUTINE_SKIPPED, routine=routine, agent=routine.agent,
                message=f"Routine {routine.name!r} skipped: {busy}.", issue=routine.last_issue)  # fmt: skip
            return
    local = at.astimezone(ZoneInfo(routine.timezone))
    context = {"routine": routine.name, "agent": routine.agent.slug, "date": local.date().isoformat(),
               "time": local.strftime("%H:%M"), "datetime": local.isoformat(timespec="minutes")}  # fmt: skip
    title = render(routine.title_template, context).strip()[:200] or f"{routine.name} {context['datetime']}"
    try:
        with transaction.atomic():
            issue = _issue(routine, title, render(routine.body_template, context), context["datetime"])
            Routine.objects.filter(pk=routine.pk).update(last_issue=issue)
            if routine.action == RoutineAction.RUN:
                run_enqueue(agent=routine.agent, issue=issue, reason=f"routine {routine.name}"[:200])
    except MesaError as exc:
        log(org=org, kind=LogKind.FAILED, routine=routine, agent=routine.agent,
            message=f"Routine {routine.name!r} could not fire: {exc.message}")  # fmt: skip
        return
    log(org=org, kind=LogKind.ROUTINE_FIRED, routine=routine, agent=routine.agent, issue=issue,
        message=f"Routine {routine.name!r} fired: {issue.key}.", data={"at": at.isoformat()})  # fmt: skip


def _issue(routine: Routine, title: str, description: str, when: str) -> Issue:
    actor = Actor.system(f"routine:{routine.name}"[:100])
    try:
        with transaction.atomic():
            return issue_create(actor=actor, org=routine.org, title=title, description=description,
                                assignee=routine.agent)  # fmt: skip
    except Conflict as exc:
        if exc.code != "duplicate":
            raise
    # The same title is still open (a "queue" routine or Run now on the same day): say when, to tell them apart.
    return issue_create(actor=actor, org=routine.org, title=f"{title} ({when})"[:200], description=description,
                        assignee=routine.agent)  # fmt: skip


def routines_fire_due(now: datetime | None = None) -> int:
    """Fire every enabled routine whose ``next_fire_at`` has come; returns how many this process claimed."""
    now = now or timezone.now()
    claimed = 0
    due = Routine.objects.filter(enabled=True, next_fire_at__lte=now).select_related("org", "agent", "last_issue")
    for routine in due:
        old = routine.next_fire_at
        new = next_fire(routine.cron, routine.timezone, now)
        # The claim: only the process that moves next_fire_at from the value it read fires.
        won = Routine.objects.filter(pk=routine.pk, next_fire_at=old).update(next_fire_at=new, last_fire_at=now)
        if won != 1:
            continue
        claimed += 1
        routine.next_fire_at, routine.last_fire_at = new, now
        _fire(routine, at=old or now)
    return claimed


def routine_run_now(*, actor: Actor, routine: Routine, now: datetime | None = None) -> Routine:
    """Fire ``routine`` at once (whatever its concurrency); its schedule is unchanged."""
    if actor.agent is not None or not actor.board:
        raise Forbidden("Only the board may run routines.", code="board_only")
    now = now or timezone.now()
    Routine.objects.filter(pk=routine.pk).update(last_fire_at=now)
    _fire(routine, at=now, force=True)
    routine.refresh_from_db()
    return routine

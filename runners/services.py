"""Writes for runs and the scheduler's switches: the queue lives in the database.

State changes are conditional updates so several scheduler processes can share
one queue: a run moves queued → running only through :func:`run_claim`, and
running → finished only through :func:`run_finish`.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import Agent
from agents.services import agent_pause
from issues.comments import system_comment
from issues.lifecycle import is_allowed, is_terminal
from issues.models import Issue, Status
from issues.services import issue_transition
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from orgs.events import EventType, event_publish
from runners.claims import claim_queued_run, run_with_parts
from runners.models import (
    ACTIVE_RUN_STATUSES,
    FAILED_RUN_STATUSES,
    FINISHED_RUN_STATUSES,
    ONE_TURN_MODES,
    Run,
    RunMode,
    RunStatus,
    SchedulerState,
    TerminalBinding,
)
from runners.selectors import run_cancellable_by

SCHEDULER = Actor.system("scheduler")


def worker_name() -> str:
    """``host:pid`` of this process: recorded on claimed runs so crash recovery knows whose they are."""

    return f"{socket.gethostname()}:{os.getpid()}"


def run_event_data(run: Run, **extra: Any) -> dict[str, Any]:
    return {
        "run_id": run.pk,
        "agent_id": run.agent_id,
        "issue_key": run.issue.key if run.issue_id and run.issue else None,
        "mode": run.mode,
        "status": run.status,
        **extra,
    }


@dataclass(frozen=True)
class Enqueued:
    run: Run
    created: bool  # False: an active run of this agent on this issue already existed (deduplicated)


@transaction.atomic
def run_enqueue(
    *,
    agent: Agent,
    issue: Issue | None = None,
    mode: str = RunMode.TASK,
    reason: str = "",
    not_before: datetime | None = None,
    conversation_id: int | None = None,
) -> Enqueued:
    """Queue a run of ``agent`` (on ``issue``), unless one is already queued or running.

    A wake-up that meets a *running* run marks it ``rerun_requested``: the scheduler
    dispatches again when it ends, so nothing said during a run is lost.
    """
    if mode not in RunMode.values:
        raise InvalidInput(f"Unknown run mode {mode!r}.", field="mode")
    if issue is not None and issue.org_id != agent.org_id:
        raise InvalidInput("The issue belongs to another org.", field="issue")
    if mode in ONE_TURN_MODES:
        raise InvalidInput(f"A {mode} run is queued by run_enqueue_one_turn.", field="mode")
    active = (
        Run.objects.filter(agent=agent, issue=issue, status__in=ACTIVE_RUN_STATUSES).exclude(mode__in=ONE_TURN_MODES)
    ).first()
    if active is None:
        try:
            with transaction.atomic():
                run = Run.objects.create(
                    org_id=agent.org_id,
                    agent=agent,
                    issue=issue,
                    mode=mode,
                    reason=reason[:200],
                    runner=agent.runner,
                    model=agent.model,
                    not_before=not_before,
                    conversation_id=conversation_id,
                )
        except IntegrityError:
            # Another scheduler queued it between our read and our insert.
            active = (
                Run.objects.filter(agent=agent, issue=issue, status__in=ACTIVE_RUN_STATUSES)
                .exclude(mode__in=ONE_TURN_MODES)
                .first()
            )
            if active is None:
                raise
        else:
            event_publish(org=agent.org, type=EventType.RUN_QUEUED, data=run_event_data(run, reason=run.reason))
            return Enqueued(run, True)
    if active.status == RunStatus.RUNNING and not active.rerun_requested:
        Run.objects.filter(pk=active.pk).update(rerun_requested=True)
        active.rerun_requested = True
    return Enqueued(active, False)


@transaction.atomic
def run_enqueue_one_turn(*, agent: Agent, mode: str, reason: str) -> Run:
    """Queue an evaluation or audit run of ``agent``: issue-less, charged to the agent like any run."""
    if mode not in ONE_TURN_MODES:
        raise InvalidInput(f"{mode!r} is not a one-turn run mode.", field="mode")
    run = Run.objects.create(
        org_id=agent.org_id, agent=agent, mode=mode, reason=reason[:200], runner=agent.runner, model=agent.model
    )
    event_publish(org=agent.org, type=EventType.RUN_QUEUED, data=run_event_data(run, reason=run.reason))
    return run


def run_claim(*, worker: str = "", max_runs: int | None = None, per_agent: int | None = None) -> Run | None:
    """Move the oldest startable queued run to ``running`` and return it, or None.

    Startable: the scheduler is not paused, the agent is active, fewer than
    ``per_agent`` (``MESA_MAX_RUNS_PER_AGENT``) runs of the agent and fewer than
    ``max_runs`` (``MESA_MAX_RUNS``) runs in total are running. The limits are checked
    in the same UPDATE statement that claims the row, so two schedulers can never exceed
    them together; on PostgreSQL candidates are taken with ``FOR UPDATE SKIP LOCKED``
    (``runners.claims``: the backend decides).
    """
    max_runs = settings.MESA_MAX_RUNS if max_runs is None else max_runs
    per_agent = settings.MESA_MAX_RUNS_PER_AGENT if per_agent is None else per_agent
    worker = worker or worker_name()
    if scheduler_paused():
        return None
    with transaction.atomic():
        pk = claim_queued_run(worker=worker, max_runs=max_runs, per_agent=per_agent)
        if pk is None:
            return None
        run = run_with_parts(pk)
        event_publish(org=run.org, type=EventType.RUN_STARTED, data=run_event_data(run))
        return run


def run_start(
    *,
    run: Run,
    prompt: str,
    branch: str = "",
    worktree_path: str = "",
    isolated: bool = False,
    pid: int | None = None,
    start_sha: str = "",
) -> Run:
    """Record how a claimed run is being executed (its prompt and workspace, the branch tip it starts from)."""
    fields: dict[str, Any] = {
        "prompt": prompt,
        "branch": branch[:200],
        "worktree_path": worktree_path[:500],
        "isolated": isolated,
        "start_sha": start_sha[:40],
    }
    if pid is not None:
        fields["pid"] = pid
    Run.objects.filter(pk=run.pk).update(**fields)
    for name, value in fields.items():
        setattr(run, name, value)
    return run


@transaction.atomic
def run_finish(
    *,
    run: Run,
    status: str,
    exit_code: int | None = None,
    failure_reason: str = "",
    stdout: str | None = None,
    stderr: str | None = None,
    diff: str | None = None,
    num_turns: int | None = None,
    usage: dict[str, Any] | None = None,
    agent_error: bool = False,
    end_sha: str = "",
) -> bool:
    """Move ``run`` from queued/running to the final ``status``; False if it had already ended.

    After a failed or timed-out run the issue's retry cap is checked (see :func:`retry_cap_check`).
    ``agent_error``: the run failed because its agent cannot work at all (its runner, workspace or
    CLI is missing or misconfigured); a failed run then also publishes ``agent_errored``, since no
    retry succeeds until a human fixes the agent.
    """
    if status not in FINISHED_RUN_STATUSES:
        raise InvalidInput(f"{status!r} is not a final run status.", field="status")
    fields: dict[str, Any] = {
        "status": status,
        "finished_at": timezone.now(),
        "exit_code": exit_code,
        "failure_reason": failure_reason,
    }
    for name, value in (("stdout", stdout), ("stderr", stderr), ("diff", diff), ("num_turns", num_turns)):
        if value is not None:
            fields[name] = value
    if usage:
        fields.update(usage)
    if end_sha:
        fields["end_sha"] = end_sha[:40]
    if not Run.objects.filter(pk=run.pk, status__in=ACTIVE_RUN_STATUSES).update(**fields):
        return False
    for name, value in fields.items():
        setattr(run, name, value)
    # Attachments to the run's terminal end with it (runners/bindings.py).
    TerminalBinding.objects.filter(run_id=run.pk, ended_at__isnull=True).update(
        ended_at=fields["finished_at"], end_reason="run ended"
    )
    event_publish(
        org=run.org,
        type=EventType.RUN_FINISHED,
        data=run_event_data(
            run,
            failure_reason=failure_reason[:300],
            tokens=run.tokens_total,
            cost_usd=str(Decimal(run.cost_usd)),
        ),
    )
    if agent_error and status == RunStatus.FAILED:
        event_publish(
            org=run.org,
            type=EventType.AGENT_ERRORED,
            data=run_event_data(run, agent=run.agent.slug, reason=failure_reason[:300]),
        )
    if status in FAILED_RUN_STATUSES and run.issue_id:
        retry_cap_check(issue_id=run.issue_id)
    return True


def failures_since_success(issue_id: int) -> int:
    """Failed/timed-out runs on the issue since its last completed run."""
    last_ok = (
        Run.objects.filter(issue_id=issue_id, status=RunStatus.COMPLETED).order_by("-id").values_list("id", flat=True)
    ).first()
    runs = Run.objects.filter(issue_id=issue_id, status__in=FAILED_RUN_STATUSES)
    if last_ok is not None:
        runs = runs.filter(id__gt=last_ok)
    return runs.count()


def heartbeat_capped(agent_id: int) -> bool:
    """True when the agent's last ``MESA_RETRY_CAP`` heartbeat runs all failed: the scheduler stops
    firing heartbeats until a run of the agent succeeds (a human's wake-up is never held back)."""
    cap = settings.MESA_RETRY_CAP
    last_ok = (
        Run.objects.filter(agent_id=agent_id, status=RunStatus.COMPLETED).order_by("-id").values_list("id", flat=True)
    ).first()
    failed = Run.objects.filter(agent_id=agent_id, mode=RunMode.HEARTBEAT, status__in=FAILED_RUN_STATUSES)
    if last_ok is not None:
        failed = failed.filter(id__gt=last_ok)
    return failed.count() >= cap


@transaction.atomic
def retry_cap_check(*, issue_id: int) -> bool:
    """After ``MESA_RETRY_CAP`` failed runs in a row on an issue, block it and say so. True if it tripped."""

    cap = settings.MESA_RETRY_CAP
    failures = failures_since_success(issue_id)
    # At the cap (and every cap failures after a human woke it again): not on every failure.
    if failures == 0 or failures % cap:
        return False
    issue = Issue.objects.select_related("org", "assignee").get(pk=issue_id)
    if is_terminal(issue.status):
        return False
    moved = False
    if issue.status != Status.BLOCKED and is_allowed(issue.status, Status.BLOCKED):
        try:
            issue_transition(actor=SCHEDULER, issue=issue, to=Status.BLOCKED)
            moved = True
        except Conflict:
            issue.refresh_from_db(fields=["status"])
    last = (
        Run.objects.filter(issue_id=issue_id, status__in=FAILED_RUN_STATUSES)
        .order_by("-id")
        .values_list("failure_reason", flat=True)
        .first()
    )
    reason = f" Last failure: {last}" if last else ""
    if moved:
        note = f"{failures} runs on {issue.key} failed in a row; moved to blocked. A human needs to look.{reason}"
    else:
        note = (
            f"{failures} runs on {issue.key} failed in a row; Mesa stops retrying it. "
            f"It stays {issue.status} (the lifecycle does not allow {issue.status} → blocked). A human needs to look."
            f"{reason}"
        )
    system_comment(issue=issue, body=note)
    event_publish(
        org=issue.org,
        type=EventType.ISSUE_RETRY_CAP,
        data={"key": issue.key, "issue_id": issue.pk, "failures": failures, "status": issue.status, "moved": moved},
    )
    return True


def retry_capped(issue: Issue) -> bool:
    """True when the issue hit the retry cap and no run succeeded since: no *automatic* retries
    (recovery, follow-ups). A human's action (a comment, an assignment) still wakes the agent."""
    return failures_since_success(issue.pk) >= settings.MESA_RETRY_CAP


@transaction.atomic
def run_cancel(*, actor: Actor, run: Run, reason: str = "") -> Run:
    """Cancel ``run``: a queued one at once; a running one is asked to stop.

    Allowed for the board and the agent's manager chain (:func:`runners.selectors.run_cancellable_by`),
    else Forbidden. A running run gets ``cancel_requested``: whichever process executes it sees the flag
    (its sink polls the row every ``CANCEL_CHECK_S``), sends SIGTERM to the process group, SIGKILL after
    ``MESA_KILL_GRACE_S``, and records the run ``cancelled``; so a cancel works from any process (web,
    bot) without knowing where the run executes. A cancelled run is never retried nor re-run. The
    issue gets a system comment saying who cancelled it and why. Conflict when the run has ended.
    """
    if not run_cancellable_by(actor, run):
        raise Forbidden(
            f"Only the board and the managers of {run.agent.slug} may cancel its runs.", code="not_your_run"
        )
    if run.is_finished:
        raise Conflict(f"Run {run.pk} has already ended ({run.status}).", code="run_finished")
    note = f"cancelled by {actor}" + (f": {reason.strip()}" if reason.strip() else "")
    now = timezone.now()
    if Run.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, finished_at=now, failure_reason=note[:1000], rerun_requested=False
    ):
        run.status = RunStatus.CANCELLED
        run.failure_reason = note
        run.finished_at = now
        event_publish(org=run.org, type=EventType.RUN_FINISHED, data=run_event_data(run, failure_reason=note))
        what = "was cancelled before it started"
    elif Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(cancel_requested=True, rerun_requested=False):
        run.cancel_requested = True
        what = f"is being stopped (its processes get up to {settings.MESA_KILL_GRACE_S} s to exit)"
    else:
        run.refresh_from_db(fields=["status"])
        raise Conflict(f"Run {run.pk} has already ended ({run.status}).", code="run_finished")
    if run.issue_id and run.issue is not None:
        why = f" Reason: {reason.strip()}" if reason.strip() else ""
        system_comment(issue=run.issue, body=f"Run {run.pk} of @{run.agent.slug} {what}; cancelled by {actor}.{why}")
    return run


def runs_cancel_for_agent(*, actor: Actor, agent: Agent, reason: str = "") -> list[Run]:
    """Cancel every queued or running run of ``agent`` (pausing it and stopping its work); returns them."""
    cancelled = []
    for run in Run.objects.select_related("agent", "issue", "org").filter(agent=agent, status__in=ACTIVE_RUN_STATUSES):
        try:
            cancelled.append(run_cancel(actor=actor, run=run, reason=reason))
        except Conflict:
            continue  # it ended meanwhile
    return cancelled


@transaction.atomic
def agent_pause_runs(*, actor: Actor, agent: Agent, stop_current: bool) -> Agent:
    """Pause ``agent`` (no new run starts); with ``stop_current`` its queued and running runs are cancelled too,
    else a running one finishes its work. The one pause every interface calls."""
    agent = agent_pause(actor=actor, agent=agent)
    if stop_current:
        runs_cancel_for_agent(actor=actor, agent=agent, reason=f"{agent.slug} was paused")
    return agent


def _state() -> SchedulerState:
    state, _ = SchedulerState.objects.get_or_create(pk=1)
    return state


@transaction.atomic
def scheduler_set_paused(*, actor: Actor, paused: bool) -> SchedulerState:
    """Pause the scheduler (no new runs start; running ones finish) or resume it; there is one per installation.

    Persisted: a restart stays paused. Setting the state it already has changes nothing
    (``paused_by`` keeps who last switched it). Returns the state now in force.
    """
    state = _state()
    if state.paused != paused:
        # Conditional: of two concurrent switches to the same state, one records its actor.
        SchedulerState.objects.filter(pk=1, paused=not paused).update(
            paused=paused, paused_at=timezone.now() if paused else None, paused_by=str(actor)[:100]
        )
        state.refresh_from_db()
    return state


def scheduler_state_message(state: SchedulerState) -> str:
    """What every interface (settings page, palette, Telegram) tells the user after :func:`scheduler_set_paused`."""
    return "Scheduler paused: no new runs start (running ones finish)." if state.paused else "Scheduler resumed."


def scheduler_paused() -> bool:
    """Selector: is the whole scheduler paused?"""
    return SchedulerState.objects.filter(pk=1, paused=True).exists()


def scheduler_beat(*, worker: str) -> None:
    """Record that a scheduler process is alive (the dashboard shows it)."""
    if not SchedulerState.objects.filter(pk=1).update(beat_at=timezone.now(), worker=worker[:100]):
        SchedulerState.objects.get_or_create(pk=1, defaults={"beat_at": timezone.now(), "worker": worker[:100]})


@transaction.atomic
def host_runs_set(*, actor: Actor, allowed: bool) -> SchedulerState:
    """Turn host runs on or off for the whole installation: the instance operator's switch alone.

    Host runs execute agents' code on the Mesa machine as the Mesa user, so members and API keys
    (board keys included) get 403 ``operator_only``. ``MESA_ALLOW_HOST_RUNS`` in the environment,
    when set, wins over this switch (``runners.readiness.host_runs_allowed``). Returns the state now stored.
    """
    if not actor.operator:
        raise Forbidden(
            "Only the instance operator (a superuser in the browser, or manage.py) can turn host runs on or off: "
            "they run agents' code on the Mesa machine as the Mesa user. API keys never can.",
            code="operator_only",
        )
    state = _state()
    # Conditional: of two concurrent switches to the same state, one records its actor.
    SchedulerState.objects.filter(pk=1, host_runs=not allowed).update(
        host_runs=allowed, host_runs_by=str(actor)[:100], host_runs_at=timezone.now()
    )
    state.refresh_from_db()
    return state

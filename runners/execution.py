"""Executing one claimed run from start to record: workspace, key, prompt, runner, diff, finish.

:func:`execute_run` is what a scheduler worker thread calls for a run it claimed. It never
raises: whatever happens, the run ends in a final status with a reason, its run key is
revoked and its worktree removed.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from agents.keys import run_key_create, run_keys_revoke
from agents.models import Agent, Sandbox
from agents.selectors import is_ceo
from chat.services import messages_mark_delivered
from issues.models import Issue
from learning.services import skill_uses_record
from orgs.redaction import Redactor, forget, remember
from runners.audit import audit_prompt, audit_record
from runners.backlog import backlog_archive, backlog_read
from runners.base import BaseRunner, EventSink, Outcome, ParsedEvent, RunContext
from runners.branches import issue_workspace
from runners.budget import budget_block, budget_remaining
from runners.chat_runs import answer_chat
from runners.claims import run_with_parts
from runners.dispatch import Wake, dispatch
from runners.executor import SubprocessRunner
from runners.judge import evaluation_request, judge_prompt, judge_record
from runners.models import Run, RunMode, RunStatus
from runners.prompt import Prompt, prompt_build
from runners.readiness import HOST_RUNS_OFF, host_runs_allowed
from runners.reflection import reflection_capture
from runners.registry import runner_for
from runners.run_env import build_env, secrets_of
from runners.sandboxes.base import sandbox_settings
from runners.services import failures_since_success, run_finish, run_start
from runners.sink import DbEventSink
from runners.terminal_stream import terminal_cap, terminals_dir
from runners.workers import running_worker_of
from runners.worktrees import Workspace, WorkspaceError, agent_home, workspace_finish, workspace_prepare

log = logging.getLogger(__name__)

# Variables of the Mesa server that an agent's process must not inherit.
STOP_STATUSES = {
    "timed_out": RunStatus.TIMED_OUT,
    "budget_exceeded": RunStatus.BUDGET_EXCEEDED,
    "cancelled": RunStatus.CANCELLED,
}


class _DeadlineSink:
    """Wraps a sink with the run's deadline, so in-process runners are timed out too."""

    def __init__(self, inner: DbEventSink, timeout_s: int) -> None:
        self.inner = inner
        self.deadline = time.monotonic() + timeout_s if timeout_s > 0 else None

    def emit(self, event: ParsedEvent) -> None:
        self.inner.emit(event)

    def should_stop(self) -> str | None:
        reason = self.inner.should_stop()
        if reason is None and self.deadline is not None and time.monotonic() >= self.deadline:
            self.inner.stop_reason = "timed_out"
            return "timed_out"
        return reason

    def started(self, pid: int) -> None:
        self.inner.started(pid)


def _workspace(agent: Agent, run: Run, issue: Issue | None) -> Workspace:
    if agent.working_dir and issue is not None:
        return issue_workspace(agent=agent, run=run, issue=issue)
    if agent.working_dir:
        return workspace_prepare(
            working_dir=agent.working_dir,
            run_id=run.pk,
            issue_key=issue.key if issue else None,
            base_branch=agent.base_branch,
        )
    # No working dir configured: a private directory per agent, never a git worktree of Mesa itself.
    path = agent_home(agent)
    path.mkdir(parents=True, exist_ok=True)
    return Workspace(cwd=path, isolated=False)


def final_status(outcome: Outcome, sink: DbEventSink) -> tuple[str, str]:
    """(status, failure reason) of a run from how its runner ended."""
    stop = outcome.stop_reason or sink.stop_reason or ""
    if stop in STOP_STATUSES:
        reasons = {
            "timed_out": outcome.failure_reason or "timed out",
            "budget_exceeded": "stopped mid-run: the agent's daily budget was exceeded",
            "cancelled": "cancelled while running",
        }
        return STOP_STATUSES[stop], reasons[stop]
    if outcome.failure_reason:
        reason = outcome.failure_reason
        if sink.result_error and sink.result_text and reason == f"exit code {outcome.exit_code}":
            # Nothing on stderr, but the CLI's final result says why (claude reports API errors there).
            reason = f"{reason}: {sink.result_text[:500]}"
        return RunStatus.FAILED, reason
    if sink.result_error:
        return RunStatus.FAILED, sink.result_text or "the agent reported an error"
    if outcome.exit_code not in (0, None):
        return RunStatus.FAILED, f"exit code {outcome.exit_code}"
    return RunStatus.COMPLETED, ""


def _finish_failed(run: Run, reason: str, **extra: Any) -> None:
    run_finish(run=run, status=RunStatus.FAILED, failure_reason=reason, **extra)


def _fresh_connection() -> None:
    # Worker threads are long-lived and keep their connection between runs (closing a SQLite
    # connection costs a WAL checkpoint); drop it only when it is broken.
    if connection.connection is not None and not connection.is_usable():
        connection.close()


@dataclass(frozen=True)
class OneTurn:
    """How a run that is not work on an issue is prompted and what is kept of its answer."""

    build: Callable[[Run], Prompt]
    record: Callable[[Run, str, str], object]  # (run, final status, what the agent said)
    max_turns: int | None  # None: the agent's own limit (the auditor may read transcripts through the API)


ONE_TURN: dict[str, OneTurn] = {
    RunMode.EVALUATION: OneTurn(judge_prompt, judge_record, 1),
    RunMode.AUDIT: OneTurn(audit_prompt, audit_record, None),
}


def execute_run(run_id: int, *, shutdown: threading.Event | None = None) -> str:
    """Execute the claimed (running) run ``run_id`` to its end; returns its final status."""
    _fresh_connection()

    run = run_with_parts(run_id)
    if run.mode in ONE_TURN:
        return _execute_one_turn(run, ONE_TURN[run.mode], shutdown)
    agent, issue = run.agent, run.issue
    ws: Workspace | None = None
    revoked = False
    redactor = Redactor(())
    status: str = RunStatus.FAILED
    try:
        remaining = budget_remaining(agent)
        if remaining.exhausted:
            budget_block(agent=agent, issue=issue, remaining=remaining)
            run_finish(
                run=run,
                status=RunStatus.BUDGET_EXCEEDED,
                failure_reason=f"not started: {agent.slug} is over its daily budget ({remaining.describe(agent)})",
            )
            return RunStatus.BUDGET_EXCEEDED
        try:
            runner: BaseRunner = runner_for(run.runner or agent.runner)
        except KeyError as exc:  # a runner name the registry does not know (an old or hand-edited config)
            _finish_failed(run, f"runner {run.runner or agent.runner!r} is not available: {exc}", agent_error=True)
            return RunStatus.FAILED
        if agent.sandbox == Sandbox.HOST and isinstance(runner, SubprocessRunner) and not host_runs_allowed():
            _finish_failed(run, HOST_RUNS_OFF, agent_error=True)
            return RunStatus.FAILED
        try:
            ws = _workspace(agent, run, issue)
        except (WorkspaceError, OSError) as exc:
            _finish_failed(run, f"could not prepare the workspace: {exc}", agent_error=True)
            return RunStatus.FAILED
        mode = run.mode if issue is not None or run.mode == RunMode.CHAT else RunMode.HEARTBEAT
        backlog_seen = backlog_read(agent) if is_ceo(agent) and mode != RunMode.CHAT else ""
        prompt = prompt_build(agent=agent, issue=issue, mode=mode, reason=run.reason, conversation=run.conversation)
        with transaction.atomic():  # one write transaction: fewer lock round trips per run
            api_key = run_key_create(org=run.org, agent=agent, run_id=run.pk, timeout_s=agent.timeout_s)
            messages_mark_delivered(agent=agent, message_ids=list(prompt.message_ids))
            env = build_env(agent=agent, run=run, issue=issue, api_key=api_key, workdir=ws.cwd)
            redactor = Redactor(secrets_of(agent, api_key, env))
            remember(redactor.secrets)  # and from the logs while the run lives
            run_start(
                run=run,
                prompt=redactor.text(prompt.recorded()),
                branch=ws.branch,
                worktree_path=ws.worktree_path,
                isolated=ws.isolated,
                start_sha=ws.base_sha,
            )
        if prompt.skills:
            skill_uses_record(run_id=run.pk, skill_ids=list(prompt.skills))
        sink = DbEventSink(
            run=run,
            org=run.org,
            issue_key=issue.key if issue else None,
            model=agent.model,
            remaining=remaining,
            redactor=redactor,
            shutdown=shutdown,
        )
        ctx = RunContext(
            run_id=run.pk,
            agent_slug=agent.slug,
            model=agent.model,
            prompt=prompt.task,
            system_prompt=prompt.system,
            cwd=ws.cwd,
            env=env,
            timeout_s=agent.timeout_s,
            max_turns=agent.max_turns,
            disallowed_tools=list(agent.disallowed_tools or []),
            extra={
                "kill_grace_s": settings.MESA_KILL_GRACE_S,
                "mode": mode,
                "agent_env": dict(agent.env or {}),
                "mesa_sandbox": agent.sandbox,  # not "sandbox": that is the codex runner's own option
                "mesa_terminal": "pty" if agent.uses_pty else "off",
                "terminal_dir": str(terminals_dir()),
                "terminal_cap": terminal_cap(),
                "mesa_egress": agent.egress,
                "org": agent.org.slug,
                "mesa_worker": running_worker_of(agent),
                **sandbox_settings(agent, env),
            },
        )
        wrapped: EventSink = _DeadlineSink(sink, agent.timeout_s)
        try:
            outcome = runner.execute(ctx, wrapped)
        except Exception as exc:  # a runner bug ends this run, not the scheduler
            log.exception("runner %s crashed on run %s", runner.name, run.pk)
            outcome = Outcome(exit_code=None, failure_reason=f"runner error: {type(exc).__name__}: {exc}")
        diff, end_sha = "", ""
        try:
            diff = workspace_finish(ws, run_id=run.pk)
            end_sha = ws.end_sha
        except Exception as exc:
            log.exception("workspace cleanup failed for run %s", run.pk)
            diff = f"[mesa could not save the diff: {exc}]"
        ws = None
        status, reason = final_status(outcome, sink)
        with transaction.atomic():
            run_keys_revoke(run_id=run.pk)
            run_finish(
                run=run,
                status=status,
                exit_code=outcome.exit_code,
                failure_reason=redactor.text(reason),
                stdout=redactor.text(outcome.stdout),
                stderr=redactor.text(outcome.stderr_tail),
                diff=redactor.text(diff),
                end_sha=end_sha,
                num_turns=outcome.num_turns if outcome.num_turns is not None else sink.num_turns,
                usage=sink.usage_fields(),
                agent_error=outcome.setup_error,
            )
        revoked = True
        if issue is not None and mode in (RunMode.TASK, RunMode.REVIEW):
            _learn(run, sink.text_tail)
        if run.conversation_id is not None and mode == RunMode.CHAT:
            answer_chat(run, status=status, text=sink.result_text, failure=redactor.text(reason))
        if status == RunStatus.COMPLETED and backlog_seen:
            backlog_archive(agent, backlog_seen)
        if status == RunStatus.BUDGET_EXCEEDED:
            budget_block(agent=agent, issue=issue)
        return status
    except Exception as exc:  # record, never leave a run running
        log.exception("run %s failed inside Mesa", run_id)
        _fresh_connection()
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        try:
            _finish_failed(run, redactor.text(f"Mesa error while running: {tb}"))
        except Exception:
            log.exception("could not record the failure of run %s", run_id)
        return RunStatus.FAILED
    finally:
        if ws is not None:
            try:
                workspace_finish(ws, run_id=run.pk)
            except Exception:
                log.exception("workspace cleanup failed for run %s", run.pk)
        if not revoked:
            try:
                run_keys_revoke(run_id=run.pk)
            except Exception:
                log.exception("could not revoke the key of run %s", run_id)
        forget(redactor.secrets)
        _follow_up(run, shutdown)


def _learn(run: Run, said: str) -> None:
    """After a task or review run: keep the agent's reflection, and queue the judge when the org wants one."""
    try:
        reflection_capture(run, said)
        evaluation_request(run)
    except Exception:  # learning is a bonus: it never turns a finished run into a failure
        log.exception("could not record what run %s taught", run.pk)


def _execute_one_turn(run: Run, how: OneTurn, shutdown: threading.Event | None) -> str:
    """An evaluation or audit run: no issue, no worktree (the agent's home), budgeted and recorded like any run;
    its answer is handed to ``how.record`` whatever the outcome, so a failed judge is recorded too."""
    agent = run.agent
    redactor = Redactor(())
    status: str = RunStatus.FAILED
    said = ""
    revoked = False
    try:
        remaining = budget_remaining(agent)
        if remaining.exhausted:
            status = RunStatus.BUDGET_EXCEEDED
            run_finish(run=run, status=status, failure_reason=f"not started: {agent.slug} is over its daily budget")
            return status
        try:
            runner: BaseRunner = runner_for(run.runner or agent.runner)
        except KeyError as exc:
            _finish_failed(run, f"runner {run.runner or agent.runner!r} is not available: {exc}", agent_error=True)
            return RunStatus.FAILED
        home = agent_home(agent)
        home.mkdir(parents=True, exist_ok=True)
        prompt = how.build(run)
        with transaction.atomic():
            api_key = run_key_create(org=run.org, agent=agent, run_id=run.pk, timeout_s=agent.timeout_s)
            env = build_env(agent=agent, run=run, issue=None, api_key=api_key, workdir=home)
            redactor = Redactor(secrets_of(agent, api_key, env))
            remember(redactor.secrets)
            run_start(run=run, prompt=redactor.text(prompt.recorded()))
        sink = DbEventSink(
            run=run, org=run.org, issue_key=None, model=agent.model, remaining=remaining, redactor=redactor,
            shutdown=shutdown,
        )  # fmt: skip
        ctx = RunContext(
            run_id=run.pk,
            agent_slug=agent.slug,
            model=agent.model,
            prompt=prompt.task,
            system_prompt=prompt.system,
            cwd=home,
            env=env,
            timeout_s=agent.timeout_s,
            max_turns=how.max_turns or agent.max_turns,
            disallowed_tools=list(agent.disallowed_tools or []),
            extra={
                "kill_grace_s": settings.MESA_KILL_GRACE_S,
                "mode": run.mode,
                "agent_env": dict(agent.env or {}),
                "mesa_sandbox": agent.sandbox,
                "org": agent.org.slug,
                **sandbox_settings(agent, env),
            },
        )
        try:
            outcome = runner.execute(ctx, _DeadlineSink(sink, agent.timeout_s))
        except Exception as exc:  # a runner bug ends this run, not the scheduler
            log.exception("runner %s crashed on run %s", runner.name, run.pk)
            outcome = Outcome(exit_code=None, failure_reason=f"runner error: {type(exc).__name__}: {exc}")
        status, reason = final_status(outcome, sink)
        said = sink.text_tail
        with transaction.atomic():
            run_keys_revoke(run_id=run.pk)
            run_finish(
                run=run,
                status=status,
                exit_code=outcome.exit_code,
                failure_reason=redactor.text(reason),
                stdout=redactor.text(outcome.stdout),
                stderr=redactor.text(outcome.stderr_tail),
                num_turns=outcome.num_turns if outcome.num_turns is not None else sink.num_turns,
                usage=sink.usage_fields(),
                agent_error=outcome.setup_error,
            )
        revoked = True
        return status
    except Exception as exc:  # record, never leave a run running
        log.exception("%s run %s failed inside Mesa", run.mode, run.pk)
        _fresh_connection()
        try:
            _finish_failed(run, redactor.text(f"Mesa error while running: {type(exc).__name__}: {exc}"))
        except Exception:
            log.exception("could not record the failure of run %s", run.pk)
        status = RunStatus.FAILED
        return status
    finally:
        if not revoked:
            try:
                run_keys_revoke(run_id=run.pk)
            except Exception:
                log.exception("could not revoke the key of run %s", run.pk)
        forget(redactor.secrets)
        try:
            how.record(run, status, said)
        except Exception:
            log.exception("could not record the answer of %s run %s", run.mode, run.pk)


def _follow_up(run: Run, shutdown: threading.Event | None) -> None:
    """After a run: retry a failed one (with backoff, up to the retry cap), or dispatch again when a
    wake-up arrived while it was running (if there is still work)."""
    if shutdown is not None and shutdown.is_set():
        return

    row = Run.objects.filter(pk=run.pk).values("status", "rerun_requested").first()
    if row is None:
        return
    wake: Wake | None = None
    if row["status"] in (RunStatus.FAILED, RunStatus.TIMED_OUT) and run.issue_id and run.mode != RunMode.HEARTBEAT:
        failures = failures_since_success(run.issue_id)
        wake = Wake(
            run.agent_id,
            run.issue_id,
            run.mode,
            f"retry {failures} after a {row['status']} run",
            automatic=True,
            delay_s=settings.MESA_RETRY_DELAY_S * failures,
        )
    elif row["rerun_requested"]:
        wake = Wake(
            run.agent_id,
            run.issue_id,
            run.mode,
            "new activity arrived while your last run was running",
            automatic=True,
            conversation_id=run.conversation_id,
        )
    if wake is None:
        return
    try:
        dispatch(wake)
    except Exception:
        log.exception("follow-up dispatch failed for run %s", run.pk)

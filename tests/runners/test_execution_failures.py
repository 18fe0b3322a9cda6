"""``execute_run`` when things go wrong: every path ends the run with a reason, revokes its key, cleans up,
and queues the right follow-up (a retry with backoff, one re-run after mid-run activity, or nothing)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from agents.models import Agent, ApiKey
from issues.models import Issue
from orgs.actors import Actor
from orgs.models import Event
from runners.base import BaseRunner, EventSink, Outcome, RunContext
from runners.dispatch import dispatch_events
from runners.execution import execute_run
from runners.models import Run, RunStatus
from runners.registry import RUNNERS
from runners.services import run_cancel, run_claim, run_enqueue
from tests.factories import make_agent, make_comment, make_issue, make_run
from tests.processes import process_gone
from tests.runners.conftest import git, script

pytestmark = pytest.mark.django_db(transaction=True)

BOARD = Actor.human(label="tests")
ANN = Actor.human(label="ann")


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class InThread:
    """``execute_run`` in a worker thread, as the scheduler's pool runs it."""

    def __init__(self, run_id: int) -> None:
        self.status: str | None = None
        self.thread = threading.Thread(target=self._run, args=(run_id,), daemon=True)
        self.thread.start()

    def _run(self, run_id: int) -> None:
        try:
            self.status = execute_run(run_id)
        finally:
            connection.close()

    def join(self, timeout: float = 30) -> str:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "execute_run never returned"
        assert self.status is not None
        return self.status


@pytest.fixture
def gated_cli(tmp_path: Path) -> Iterator[tuple[Path, Path, Path]]:
    """A CLI that says it started, then waits until the test opens the gate (or is killed)."""
    started, gate = tmp_path / "started", tmp_path / "gate"
    cli = script(
        tmp_path,
        "gated-cli",
        f"""
        import os, pathlib, sys, time
        sys.stdin.read()
        pathlib.Path({str(started)!r}).write_text(str(os.getpid()))
        print("working", flush=True)
        for _ in range(3000):
            if os.path.exists({str(gate)!r}):
                break
            time.sleep(0.01)
        print("done", flush=True)
        """,
    )
    yield cli, started, gate
    gate.touch()  # a failed test must not leave the CLI waiting


def claimed(agent: Agent, issue: Issue | None) -> Run:
    run_enqueue(agent=agent, issue=issue, reason="test")
    run = run_claim(worker="tests:1")
    assert run is not None
    return run


def key_of(run: Run) -> ApiKey | None:
    return ApiKey.objects.filter(run_id=run.pk).first()


def test_it_runs_exactly_one_follow_up_after_comments_arrive_mid_run(org: Any, gated_cli: Any) -> None:
    cli, started, gate = gated_cli
    agent = make_agent(org, slug="dev", runner="command", model=str(cli))
    issue = make_issue(org, title="Long work", assignee=agent)
    run = claimed(agent, issue)
    cursor = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    worker = InThread(run.pk)
    wait_for(started.exists, "the CLI to start")

    make_comment(issue, actor=ANN, body="Also handle the empty case.")
    make_comment(issue, actor=ANN, body="And the unicode one.")
    dispatch_events(cursor)  # what the scheduler does with those comment events

    assert Run.objects.filter(issue=issue).count() == 1  # no second run while this one runs
    assert Run.objects.get(pk=run.pk).rerun_requested
    gate.touch()
    assert worker.join() == RunStatus.COMPLETED

    runs = list(Run.objects.filter(issue=issue).order_by("id"))
    assert [r.status for r in runs] == [RunStatus.COMPLETED, RunStatus.QUEUED]
    assert runs[1].reason == "new activity arrived while your last run was running"
    assert runs[1].not_before is None  # not a retry: it may start at once


def test_it_queues_no_follow_up_without_mid_run_activity(org: Any, gated_cli: Any) -> None:
    cli, started, gate = gated_cli
    agent = make_agent(org, slug="dev", runner="command", model=str(cli))
    issue = make_issue(org, title="Quiet work", assignee=agent)
    run = claimed(agent, issue)
    gate.touch()
    assert InThread(run.pk).join() == RunStatus.COMPLETED
    assert Run.objects.filter(issue=issue).count() == 1


def test_it_fails_a_run_whose_runner_is_no_longer_available(org: Any) -> None:
    agent = make_agent(org, slug="dev", runner="noop")
    issue = make_issue(org, title="Old config", assignee=agent)
    run = make_run(agent, issue=issue, runner="retired-runner", status=RunStatus.RUNNING, started_at=timezone.now())

    assert execute_run(run.pk) == RunStatus.FAILED

    run.refresh_from_db()
    assert run.failure_reason.startswith("runner 'retired-runner' is not available")
    assert run.finished_at is not None and key_of(run) is None  # nothing was started, no key handed out
    errored = Event.objects.get(type="agent_errored")
    assert errored.data["run_id"] == run.pk and "retired-runner" in errored.data["reason"]


def test_it_fails_a_run_whose_workspace_cannot_be_prepared(org: Any, tmp_path: Path) -> None:
    missing = tmp_path / "moved-away"
    agent = make_agent(org, slug="dev", runner="noop", working_dir=str(tmp_path))
    Agent.objects.filter(pk=agent.pk).update(working_dir=str(missing))  # the checkout went away after setup
    issue = make_issue(org, title="Where is the repo", assignee=agent)
    run = make_run(agent, issue=issue, status=RunStatus.RUNNING, started_at=timezone.now())

    assert execute_run(run.pk) == RunStatus.FAILED

    run.refresh_from_db()
    assert run.failure_reason == f"could not prepare the workspace: working directory {missing} does not exist"
    assert key_of(run) is None and run.prompt == ""
    assert Event.objects.filter(type="agent_errored", data__run_id=run.pk).exists()


def test_it_fails_a_run_whose_branch_base_is_missing_and_leaves_the_repo_clean(org: Any, repo: Path) -> None:
    agent = make_agent(org, slug="dev", runner="noop", working_dir=str(repo), base_branch="release-9")
    issue = make_issue(org, title="Branch off a ghost", assignee=agent)
    run = make_run(agent, issue=issue, status=RunStatus.RUNNING, started_at=timezone.now())

    assert execute_run(run.pk) == RunStatus.FAILED

    run.refresh_from_db()
    assert run.failure_reason.startswith("could not prepare the workspace:") and "release-9" in run.failure_reason
    assert git(repo, "worktree", "list").count("\n") == 0  # only the main checkout
    assert git(repo, "status", "--porcelain") == ""


class BoomRunner(BaseRunner):
    """A runner with a bug: it raises instead of returning an Outcome."""

    name = "boom"

    def execute(self, ctx: RunContext, sink: EventSink) -> Outcome:
        (Path(ctx.cwd) / "half-done.txt").write_text("partial\n")
        raise RuntimeError("boom in the runner")


def test_it_records_a_runner_that_raises_and_still_cleans_up(
    org: Any, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(RUNNERS, "boom", f"{__name__}:BoomRunner")
    agent = make_agent(org, slug="dev", runner="noop", working_dir=str(repo))
    issue = make_issue(org, title="Crashy runner", assignee=agent)
    run = make_run(agent, issue=issue, runner="boom", status=RunStatus.RUNNING, started_at=timezone.now())

    assert execute_run(run.pk) == RunStatus.FAILED

    run.refresh_from_db()
    assert run.failure_reason == "runner error: RuntimeError: boom in the runner"
    assert run.worktree_path and not Path(run.worktree_path).exists()  # the worktree is removed
    assert "half-done.txt" in run.diff  # and what the run did before the crash is kept
    key = key_of(run)
    assert key is not None and key.revoked_at is not None
    assert git(repo, "status", "--porcelain") == ""


def test_it_cancels_a_running_run_and_neither_retries_nor_reruns_it(org: Any, tmp_path: Path, gated_cli: Any) -> None:
    cli, started, _ = gated_cli  # the gate never opens: only the cancel ends it
    agent = make_agent(org, slug="dev", runner="command", model=str(cli))
    issue = make_issue(org, title="Going the wrong way", assignee=agent)
    run = claimed(agent, issue)
    cursor = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    worker = InThread(run.pk)
    wait_for(started.exists, "the CLI to start")
    make_comment(issue, actor=ANN, body="Stop, wrong approach.")
    dispatch_events(cursor)
    assert Run.objects.get(pk=run.pk).rerun_requested

    run_cancel(actor=BOARD, run=Run.objects.get(pk=run.pk), reason="wrong approach")

    assert worker.join() == RunStatus.CANCELLED
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.failure_reason == "cancelled while running"
    assert process_gone(int(started.read_text()))
    key = key_of(run)
    assert key is not None and key.revoked_at is not None
    assert Run.objects.filter(issue=issue).count() == 1  # no retry, no follow-up


def test_it_backs_retries_off_by_the_delay_times_the_failures_until_the_cap(
    org: Any, tmp_path: Path, settings: Any
) -> None:
    settings.MESA_RETRY_DELAY_S = 60
    settings.MESA_RETRY_CAP = 3
    cli = script(tmp_path, "crash-cli", "import sys\nprint('oops', file=sys.stderr)\nsys.exit(2)\n")
    agent = make_agent(org, slug="crashy", runner="command", model=str(cli))
    issue = make_issue(org, title="Always crashes", assignee=agent)
    run = claimed(agent, issue)

    delays = []
    for _ in range(3):
        before = timezone.now()
        assert execute_run(run.pk) == RunStatus.FAILED
        after = timezone.now()
        retry = Run.objects.filter(issue=issue, status=RunStatus.QUEUED).first()
        if retry is None:
            break
        assert retry.not_before is not None
        # The delay, bracketed by the clock readings around the run (no wall-clock assumption).
        low, high = retry.not_before - after, retry.not_before - before
        delays.append(next(d for d in (60, 120, 180, 240) if low <= timedelta(seconds=d) <= high))
        assert run_claim(worker="tests:1") is None  # it waits out its delay
        Run.objects.filter(pk=retry.pk).update(not_before=timezone.now())  # the delay has passed
        claimed_retry = run_claim(worker="tests:1")
        assert claimed_retry is not None and claimed_retry.pk == retry.pk
        run = claimed_retry

    assert delays == [60, 120]  # then the third failure hits the cap: no more automatic retries
    issue.refresh_from_db()
    assert issue.status == "blocked"
    assert Run.objects.filter(issue=issue).count() == 3

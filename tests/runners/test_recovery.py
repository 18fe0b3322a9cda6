from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from runners.models import Run, RunStatus
from runners.processes import process_start_ticks
from runners.scheduler import recover
from runners.worktrees import workspace_prepare
from tests.factories import make_agent, make_issue, make_run
from tests.processes import process_state

pytestmark = pytest.mark.django_db(transaction=True)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_it_fails_runs_left_running_by_a_crash_comments_and_redispatches(org: Any, repo: Path) -> None:
    agent = make_agent(org, slug="dev", runner="noop", working_dir=str(repo))
    issue = make_issue(org, title="Interrupted", assignee=agent)
    Run.objects.all().delete()
    crashed = make_run(agent, issue=issue, status=RunStatus.RUNNING, claimed_by=f"{socket.gethostname()}:{dead_pid()}")
    ws = workspace_prepare(working_dir=str(repo), run_id=crashed.pk, issue_key=issue.key)
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)"],
        env={**os.environ, "MESA_RUN_ID": str(crashed.pk)},
        start_new_session=True,
    )
    Run.objects.filter(pk=crashed.pk).update(pid=orphan.pid, pid_start=process_start_ticks(orphan.pid))

    call_command("scheduler", once=True)

    crashed.refresh_from_db()
    assert crashed.status == RunStatus.FAILED
    assert "recovered at start-up" in crashed.failure_reason
    assert issue.comments.filter(kind="system", body__contains=f"Run {crashed.pk}").exists()
    assert orphan.wait(timeout=5) == -9  # the orphaned CLI was killed
    assert not Path(ws.worktree_path).exists()  # its worktree pruned
    # The pending work was dispatched again and ran.
    again = Run.objects.filter(issue=issue).exclude(pk=crashed.pk).get()
    assert again.status == RunStatus.COMPLETED


def test_it_recovers_runs_of_a_scheduler_that_is_a_zombie(org: Any) -> None:
    agent = make_agent(org, slug="dev", runner="noop")
    issue = make_issue(org, title="Owned by the dead")
    Run.objects.all().delete()
    # The owner has exited but nobody reaped it: os.kill(pid, 0) still succeeds on a zombie.
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while process_state(zombie.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process_state(zombie.pid) == "Z"
        owned = make_run(
            agent, issue=issue, status=RunStatus.RUNNING, claimed_by=f"{socket.gethostname()}:{zombie.pid}"
        )

        call_command("scheduler", once=True)

        owned.refresh_from_db()
        assert owned.status == RunStatus.FAILED and "recovered at start-up" in owned.failure_reason
    finally:
        zombie.wait()


def test_it_leaves_alone_runs_of_another_live_scheduler(org: Any) -> None:
    agent = make_agent(org, slug="dev", runner="noop")
    issue = make_issue(org, title="Owned elsewhere", assignee=agent)
    Run.objects.all().delete()
    owned = make_run(agent, issue=issue, status=RunStatus.RUNNING, claimed_by=f"{socket.gethostname()}:{os.getppid()}")
    call_command("scheduler", once=True)
    owned.refresh_from_db()
    assert owned.status == RunStatus.RUNNING
    assert Run.objects.filter(issue=issue).count() == 1  # and no second run of that agent on it


@pytest.fixture
def sleeper() -> Iterator[Any]:
    """Starts long-lived processes in their own group (with extra env); kills what is left at the end."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(300)"], env={**os.environ, **env}, start_new_session=True
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _crashed_run(org: Any, **kw: Any) -> Run:
    agent = make_agent(org, slug="dev", runner="noop")
    issue = make_issue(org, title="Interrupted", assignee=agent)
    Run.objects.all().delete()
    kw.setdefault("claimed_by", f"{socket.gethostname()}:{dead_pid()}")
    return make_run(agent, issue=issue, status=RunStatus.RUNNING, **kw)


def test_it_never_kills_a_recycled_pid_now_held_by_another_program(org: Any, sleeper: Any) -> None:
    run = _crashed_run(org)
    stranger = sleeper()  # the run's pid was reused by a program that has nothing to do with Mesa
    Run.objects.filter(pk=run.pk).update(pid=stranger.pid, pid_start=process_start_ticks(stranger.pid))

    assert recover(worker="tests:1") == [run.pk]

    assert stranger.poll() is None  # alive
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "recovered at start-up" in run.failure_reason


def test_it_never_kills_a_recycled_pid_even_when_it_is_a_run_with_the_same_id(org: Any, sleeper: Any) -> None:
    run = _crashed_run(org)
    # Another Mesa on this machine (a second install, a test suite) runs its own run number run.pk on the pid
    # this run's CLI once had: same pid, same MESA_RUN_ID, but a process started after the one recorded.
    other = sleeper(MESA_RUN_ID=str(run.pk))
    started = process_start_ticks(other.pid)
    assert started is not None
    Run.objects.filter(pk=run.pk).update(pid=other.pid, pid_start=started - 1)

    assert recover(worker="tests:1") == [run.pk]

    assert other.poll() is None  # alive
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILED


def test_it_kills_the_orphan_whose_pid_and_start_time_match(org: Any, sleeper: Any) -> None:
    run = _crashed_run(org)
    orphan = sleeper(MESA_RUN_ID=str(run.pk))
    Run.objects.filter(pk=run.pk).update(pid=orphan.pid, pid_start=process_start_ticks(orphan.pid))

    assert recover(worker="tests:1") == [run.pk]

    assert orphan.wait(timeout=5) == -9


def test_it_leaves_the_runs_of_a_scheduler_on_another_host_alone(org: Any, sleeper: Any) -> None:
    run = _crashed_run(org, claimed_by="build-box-2.example:4242")
    # Even a process here that looks exactly like its CLI is not ours to kill: that host recovers its runs.
    lookalike = sleeper(MESA_RUN_ID=str(run.pk))
    Run.objects.filter(pk=run.pk).update(pid=lookalike.pid, pid_start=process_start_ticks(lookalike.pid))

    assert recover(worker="tests:1") == []

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.failure_reason == "" and run.finished_at is None
    assert lookalike.poll() is None
    assert run.issue is not None and not run.issue.comments.filter(kind="system").exists()


def test_it_records_the_start_time_of_a_runs_process(org: Any, tmp_path: Path) -> None:
    from orgs.redaction import Redactor
    from runners.budget import budget_remaining
    from runners.sink import DbEventSink

    run = _crashed_run(org)
    assert run.agent is not None
    sink = DbEventSink(
        run=run, org=org, issue_key=None, model="m", remaining=budget_remaining(run.agent), redactor=Redactor(())
    )
    sink.started(os.getpid())

    run.refresh_from_db()
    assert (run.pid, run.pid_start) == (os.getpid(), process_start_ticks(os.getpid()))
    assert run.pid_start is not None


def test_it_recovers_a_run_whose_schedulers_pid_now_belongs_to_a_newer_process(org: Any, sleeper: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    newer = sleeper()  # the dead scheduler's pid, reused by a process started after the run was claimed
    run = _crashed_run(
        org, claimed_by=f"{socket.gethostname()}:{newer.pid}", started_at=timezone.now() - timedelta(minutes=5)
    )

    assert recover(worker="tests:1") == [run.pk]

    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILED
    assert newer.poll() is None  # and it is not killed for it

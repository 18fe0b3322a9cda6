from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from runners.models import Run, RunStatus
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
    Run.objects.filter(pk=crashed.pk).update(pid=orphan.pid)

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

"""Cancelling a run from another process: the scheduler executing it stops the whole process group."""

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
from django.conf import settings

from agents.keys import key_create
from agents.models import Agent, AgentStatus, KeyKind
from issues.models import Comment, CommentKind, Issue
from orgs.actors import Actor
from runners.models import Run, RunEvent, RunStatus
from runners.scheduler import recover
from runners.services import agent_pause_runs, run_cancel
from tests.factories import make_agent, make_issue, make_run
from tests.processes import process_gone
from tests.runners.conftest import script

pytestmark = pytest.mark.django_db(transaction=True)

BOARD = Actor.human(label="tests")


def _hanging_cli(tmp_path: Path) -> tuple[Path, Path]:
    """A fake CLI that spawns a grandchild, says it started, and hangs (ignoring SIGTERM: only SIGKILL stops it)."""
    pidfile = tmp_path / "grandchild.pid"
    cli = script(
        tmp_path,
        "hang-cli",
        f"""
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        print("working", flush=True)
        time.sleep(300)
        """,
    )
    return cli, pidfile


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``manage.py scheduler`` in its own process, on the test's database."""
    env = {**os.environ, "MESA_KILL_GRACE_S": "1"}
    env["DATABASE_URL"] = f"sqlite:///{settings.DATABASES['default']['NAME']}"
    env["MESA_WORKSPACES_DIR"] = settings.MESA_WORKSPACES_DIR
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "scheduler"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield proc
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for(predicate: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _running(org: Any, tmp_path: Path, slug: str = "hang") -> tuple[Agent, Issue, Path]:
    cli, pidfile = _hanging_cli(tmp_path)
    agent = make_agent(org, slug=slug, runner="command", model=str(cli), timeout_s=600)
    issue = make_issue(org, title="Long work", assignee=agent)
    return agent, issue, pidfile


def test_it_cancels_a_running_run_of_another_process_through_the_api(
    org: Any, tmp_path: Path, scheduler: subprocess.Popen[bytes], client: Any
) -> None:
    agent, issue, pidfile = _running(org, tmp_path)
    _wait_for(lambda: RunEvent.objects.filter(run__issue=issue, type="text").exists(), "the run to start")
    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.RUNNING and run.pid
    _, key = key_create(actor=BOARD, org=org, kind=KeyKind.BOARD, name="tests")

    r = client.post(
        f"/api/v1/runs/{run.pk}/cancel",
        data=b'{"reason": "going the wrong way"}',
        content_type="application/json",
        headers={"authorization": f"Bearer {key}"},
    )

    assert r.status_code == 200, r.content
    _wait_for(lambda: Run.objects.filter(pk=run.pk, status=RunStatus.CANCELLED).exists(), "the run to end")
    run.refresh_from_db()
    assert run.failure_reason == "cancelled while running"
    # The CLI ignored SIGTERM: the group got SIGKILL after the grace period, the grandchild too.
    assert process_gone(run.pid) and process_gone(int(pidfile.read_text()))
    note = Comment.objects.get(issue=issue, kind=CommentKind.SYSTEM)
    assert "going the wrong way" in note.body and f"Run {run.pk}" in note.body
    # Not retried (a retry would be queued in the same pass that recorded the run).
    assert Run.objects.filter(issue=issue).count() == 1
    assert scheduler.poll() is None  # the scheduler lives on


def test_it_pauses_an_agent_and_stops_its_current_run_when_asked(
    org: Any, tmp_path: Path, scheduler: subprocess.Popen[bytes]
) -> None:
    agent, issue, _ = _running(org, tmp_path)
    _wait_for(lambda: RunEvent.objects.filter(run__issue=issue, type="text").exists(), "the run to start")

    agent_pause_runs(actor=BOARD, agent=agent, stop_current=True)

    agent.refresh_from_db()
    assert agent.status == AgentStatus.PAUSED
    _wait_for(lambda: Run.objects.filter(issue=issue, status=RunStatus.CANCELLED).exists(), "the run to end")
    assert "was paused" in Comment.objects.get(issue=issue, kind=CommentKind.SYSTEM).body


def test_it_pauses_an_agent_and_lets_its_current_run_finish(org: Any) -> None:
    agent = make_agent(org, slug="busy", runner="noop")
    running = make_run(agent, status=RunStatus.RUNNING, issue=make_issue(org, title="a"))
    queued = make_run(agent, status=RunStatus.QUEUED, issue=make_issue(org, title="b"))

    agent_pause_runs(actor=BOARD, agent=agent, stop_current=False)

    running.refresh_from_db()
    queued.refresh_from_db()
    assert running.status == RunStatus.RUNNING and not running.cancel_requested
    assert queued.status == RunStatus.QUEUED  # held while paused, as before
    assert Agent.objects.get(pk=agent.pk).status == AgentStatus.PAUSED

    agent_pause_runs(actor=BOARD, agent=agent, stop_current=True)
    running.refresh_from_db()
    queued.refresh_from_db()
    assert running.cancel_requested and queued.status == RunStatus.CANCELLED


def test_it_ends_a_cancelled_run_whose_scheduler_died_as_cancelled_at_start_up(org: Any) -> None:
    agent = make_agent(org, slug="orphaned", runner="noop")
    issue = make_issue(org, title="Orphaned", assignee=agent)
    Run.objects.all().delete()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run = make_run(agent, issue=issue, status=RunStatus.RUNNING, claimed_by=f"{socket.gethostname()}:{dead.pid}")
    run_cancel(actor=BOARD, run=run)

    assert recover(worker="tests:1") == [run.pk]

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and "cancelled while running" in run.failure_reason

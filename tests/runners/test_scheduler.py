from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from agents.keys import key_lookup
from agents.models import Agent
from agents.services import agent_update
from issues.services import issue_update
from runners import scheduler as scheduler_module
from runners.models import Run, RunEvent, RunStatus
from runners.scheduler import Scheduler
from runners.services import run_enqueue
from tests.factories import SYSTEM, make_agent, make_issue, make_run
from tests.processes import process_gone
from tests.runners.conftest import git, script

pytestmark = pytest.mark.django_db(transaction=True)

EDITING_CLI = """
import json, os, sys
prompt = sys.stdin.read()
name = os.environ["MESA_AGENT_SLUG"] + ".txt"
open(name, "w").write("work of " + os.environ["MESA_ISSUE_KEY"] + "\\n")
print(json.dumps({"type": "text", "text": "wrote " + name, "usage": {"tokens_in": 100, "tokens_out": 20}}))
print(json.dumps({"type": "text", "text": "key " + os.environ["MESA_API_KEY"]}))
open(os.environ["MESA_WORKTREE"] + "/.key", "w").write(os.environ["MESA_API_KEY"])
print(json.dumps({"type": "result", "result": "done", "num_turns": 2,
                  "final": {"tokens_in": 120, "tokens_out": 30, "cache_read": 5, "cost_usd": "0.0125"}}))
"""


def test_it_runs_an_assigned_issue_end_to_end_with_the_noop_runner(org: Any) -> None:
    agent = make_agent(org, slug="worker", runner="noop")
    issue = make_issue(org, title="Do the thing", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.COMPLETED
    assert run.agent == agent and run.mode == "task"
    assert run.started_at and run.finished_at
    texts = list(RunEvent.objects.filter(run=run, type="text").values_list("data", flat=True))
    assert any(issue.key in t["text"] for t in texts)
    assert RunEvent.objects.filter(run=run, type="result").exists()
    assert "ISSUE " + issue.key in run.prompt and "Do the thing" in run.prompt
    assert run.isolated is False
    issue.refresh_from_db()
    assert issue.status == "todo"  # noop records the run, it does not move the issue


def test_it_runs_in_a_worktree_and_stores_diff_tokens_and_cost(org: Any, repo: Path, tmp_path: Path) -> None:
    cli = script(tmp_path, "edit-cli", EDITING_CLI)
    agent = make_agent(org, slug="dev", runner="command", working_dir=str(repo), model=str(cli))
    issue = make_issue(org, title="Write a file", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.COMPLETED, run.failure_reason
    assert run.isolated is True
    assert run.branch == f"mesa/{issue.key}"  # the issue's one branch
    assert "+work of " + issue.key in run.diff and "dev.txt" in run.diff
    assert (run.tokens_in, run.tokens_out, run.tokens_cache_read) == (120, 30, 5)
    assert run.cost_usd == Decimal("0.0125")
    assert run.num_turns == 2
    # The branch is kept with the work committed; the worktree is gone; the main checkout untouched.
    assert "work of" in git(repo, "show", f"{run.branch}:dev.txt")
    assert not Path(run.worktree_path).exists()
    assert not (repo / "dev.txt").exists()
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_it_redacts_the_run_key_and_revokes_it_after_the_run(org: Any, repo: Path, tmp_path: Path, client: Any) -> None:
    from agents.models import ApiKey

    cli = script(tmp_path, "edit-cli", EDITING_CLI)
    secret = "sk-agent-secret-value-123"
    agent = make_agent(
        org,
        slug="dev",
        runner="command",
        working_dir=str(repo),
        model=str(cli),
        env={"SOME_TOKEN": secret},
    )
    issue = make_issue(org, title="Leak the key", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    raw_key = git(repo, "show", f"{run.branch}:.key")
    assert raw_key.startswith("mesa_")
    stored = json.dumps(list(RunEvent.objects.filter(run=run).values_list("data", flat=True)))
    assert raw_key not in stored and raw_key not in run.stdout and raw_key not in run.diff
    assert "[redacted]" in stored
    assert secret not in run.prompt and secret not in stored
    assert key_lookup(raw_key) is None  # revoked: the API rejects it now
    key = ApiKey.objects.get(run_id=run.pk)
    assert key.kind == "run" and key.agent == agent and key.revoked_at is not None
    response = client.get("/api/v1/inbox", HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert response.status_code == 401


def test_it_runs_two_agents_in_one_repo_in_parallel_with_separate_diffs(org: Any, repo: Path, tmp_path: Path) -> None:
    # Each CLI says it is here and waits for the other one: they only finish if they run at the same time
    # (proof of the overlap without inferring it from sleeps and timestamps; alone, one gives up and fails).
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    rendezvous = f"""prompt = sys.stdin.read()
import time
open(os.path.join({str(meeting)!r}, os.environ["MESA_AGENT_SLUG"]), "w").close()
deadline = time.monotonic() + 60
while len(os.listdir({str(meeting)!r})) < 2:
    if time.monotonic() > deadline:
        sys.exit("the other agent never ran alongside")
    time.sleep(0.02)"""
    cli = script(tmp_path, "meeting-cli", EDITING_CLI.replace("prompt = sys.stdin.read()", rendezvous))
    a = make_agent(org, slug="alice", runner="command", working_dir=str(repo), model=str(cli))
    b = make_agent(org, slug="bob", runner="command", working_dir=str(repo), model=str(cli))
    ia = make_issue(org, title="Alice's work", assignee=a)
    ib = make_issue(org, title="Bob's work", assignee=b)

    call_command("scheduler", once=True)

    ra, rb = Run.objects.get(issue=ia), Run.objects.get(issue=ib)
    # Both completed: each met the other, so they ran at the same time, each in its own checkout.
    assert ra.status == rb.status == RunStatus.COMPLETED, (ra.failure_reason, rb.failure_reason)
    assert ra.worktree_path != rb.worktree_path
    assert "alice.txt" in ra.diff and "bob.txt" not in ra.diff
    assert "bob.txt" in rb.diff and "alice.txt" not in rb.diff


def test_it_fails_a_run_whose_binary_is_missing_with_a_clear_reason(org: Any) -> None:
    agent = make_agent(org, slug="ghost", runner="command", model="no-such-cli-xyz --flag")
    issue = make_issue(org, title="Cannot run", assignee=agent)
    # The dispatcher queues nothing for an agent that needs setup; a run queued by hand ("Wake now").
    run_enqueue(agent=agent, issue=issue, reason="by hand")

    call_command("scheduler", once=True)

    (run,) = Run.objects.filter(issue=issue).order_by("id")
    assert run.status == RunStatus.FAILED
    assert "no-such-cli-xyz" in run.failure_reason and "not found" in run.failure_reason


def test_it_starts_no_run_for_an_agent_whose_cli_is_missing(org: Any) -> None:
    agent = make_agent(org, slug="ghost", runner="command", model="no-such-cli-xyz --flag")
    issue = make_issue(org, title="Needs setup first", assignee=agent)

    call_command("scheduler", once=True)

    assert not Run.objects.filter(issue=issue).exists()
    agent_update(actor=SYSTEM, agent=agent, runner="noop")
    issue_update(actor=SYSTEM, issue=issue, priority=2)  # any change wakes the assignee again

    call_command("scheduler", once=True)

    assert list(Run.objects.filter(issue=issue).values_list("status", flat=True)) == [RunStatus.COMPLETED]


def test_it_times_out_a_hanging_run_and_kills_its_whole_process_group(org: Any, tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    cli = script(
        tmp_path,
        "hang-cli",
        f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        print("started", flush=True)
        time.sleep(300)
        """,
    )
    agent = make_agent(org, slug="hang", runner="command", timeout_s=1, model=str(cli))
    issue = make_issue(org, title="Hang forever", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.filter(issue=issue).order_by("id").first()
    assert run is not None and run.status == RunStatus.TIMED_OUT
    assert "timed out" in run.failure_reason
    grandchild = int(pidfile.read_text())
    assert process_gone(grandchild)


def test_it_stops_cleanly_on_sigterm_and_leaves_nothing_running(org: Any, tmp_path: Path) -> None:
    cli = script(tmp_path, "sleepy", "import time\nprint('working', flush=True)\ntime.sleep(300)\n")
    agent = make_agent(org, slug="sleepy", runner="command", model=str(cli))
    issue = make_issue(org, title="Long work", assignee=agent)
    env = {**os.environ, "MESA_KILL_GRACE_S": "1"}
    from django.conf import settings

    db = settings.DATABASES["default"]["NAME"]
    env["DATABASE_URL"] = f"sqlite:///{db}"
    env["MESA_WORKSPACES_DIR"] = settings.MESA_WORKSPACES_DIR
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "scheduler"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if RunEvent.objects.filter(run__issue=issue, type="text").exists():
                break
            time.sleep(0.05)
        run = Run.objects.get(issue=issue)
        assert run.status == RunStatus.RUNNING
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert not Run.objects.filter(status=RunStatus.RUNNING).exists()
    assert run.pid and process_gone(run.pid)


def test_it_does_not_start_runs_while_the_scheduler_is_paused_and_does_after_resume(org: Any) -> None:
    from orgs.actors import Actor
    from runners.services import scheduler_paused, scheduler_set_paused

    agent = make_agent(org, slug="w", runner="noop")
    scheduler_set_paused(actor=Actor.system(), paused=True)
    assert scheduler_paused()
    issue = make_issue(org, title="Wait for resume", assignee=agent)

    call_command("scheduler", once=True)
    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.QUEUED

    scheduler_set_paused(actor=Actor.system(), paused=False)
    call_command("scheduler", once=True)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED


def test_it_holds_runs_of_a_paused_agent_until_it_is_resumed(org: Any) -> None:
    from agents.services import agent_pause, agent_resume
    from orgs.actors import Actor

    agent = make_agent(org, slug="w", runner="noop")
    agent_pause(actor=Actor.system(), agent=agent)
    issue = make_issue(org, title="Paused agent work", assignee=agent)
    call_command("scheduler", once=True)
    assert Run.objects.get(issue=issue).status == RunStatus.QUEUED

    agent_resume(actor=Actor.system(), agent=agent)
    call_command("scheduler", once=True)
    assert Run.objects.get(issue=issue).status == RunStatus.COMPLETED


def test_it_creates_no_run_for_a_heartbeat_with_nothing_to_do(org: Any) -> None:
    idle = make_agent(org, slug="idle", runner="noop", heartbeat_enabled=True, heartbeat_interval_s=10)
    busy = make_agent(org, slug="busy", runner="noop", heartbeat_enabled=True, heartbeat_interval_s=10)
    make_issue(org, title="Busy work", assignee=busy)
    Run.objects.all().delete()
    scheduler = Scheduler()
    scheduler.heartbeat_due = {idle.pk: 0.0, busy.pk: 0.0}
    try:
        scheduler._heartbeats()
    finally:
        scheduler.close()
    assert not Run.objects.filter(agent=idle).exists()
    assert Run.objects.filter(agent=busy, mode="heartbeat", issue=None).count() == 1


def test_it_retries_a_failing_issue_and_blocks_it_at_the_retry_cap(org: Any, tmp_path: Path, settings: Any) -> None:
    from issues.services import issue_transition
    from orgs.actors import Actor
    from orgs.models import Event

    settings.MESA_RETRY_DELAY_S = 0
    cli = script(tmp_path, "crash-cli", "import sys\nprint('oops', file=sys.stderr)\nsys.exit(2)\n")
    agent = make_agent(org, slug="crashy", runner="command", model=str(cli))
    issue = make_issue(org, title="Always crashes", assignee=agent)
    issue_transition(actor=Actor.system(), issue=issue, to="in_progress")

    call_command("scheduler", once=True)

    runs = list(Run.objects.filter(issue=issue).order_by("id"))
    assert [r.status for r in runs] == [RunStatus.FAILED] * 3
    assert runs[0].exit_code == 2 and "oops" in runs[0].failure_reason and "oops" in runs[0].stderr
    issue.refresh_from_db()
    assert issue.status == "blocked"
    assert issue.comments.filter(kind="system", body__contains="3 runs").exists()
    assert Event.objects.filter(type="issue_retry_cap", data__key=issue.key).exists()


def test_it_is_nudged_over_the_wake_socket_after_a_wake_type_event_commits(
    org: Any, tmp_path: Path, settings: Any
) -> None:
    import select
    import socket as socketlib

    from runners.wake import WakeSocket

    settings.MESA_SCHEDULER_SOCKET = str(tmp_path / "w.sock")
    stale = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_DGRAM)
    stale.bind(settings.MESA_SCHEDULER_SOCKET)
    stale.close()  # a dead scheduler's leftover socket file
    wake = WakeSocket()
    try:
        assert wake.sock is not None
        make_agent(org, slug="quiet")  # agent_created: not a wake type
        assert select.select([wake.sock], [], [], 0)[0] == []
        make_issue(org, title="Wake up")  # issue_created: nudges after commit
        assert select.select([wake.sock], [], [], 1.0)[0] == [wake.sock]
        wake.drain()
        assert select.select([wake.sock], [], [], 0)[0] == []
    finally:
        wake.close()


LEAKY_CLI = """
import json, os
print(json.dumps({"type": "text", "text": "env says " + os.environ["VENDOR_API_KEY"]}))
print("plain line " + os.environ["VENDOR_API_KEY"])
print(json.dumps({"type": "result", "result": "done"}))
"""


def test_it_redacts_secret_host_variables_the_agent_inherits(
    org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLIs need host keys such as ANTHROPIC_API_KEY; an agent printing its env must not store them.
    secret = "vendor-secret-value-0042"
    monkeypatch.setenv("VENDOR_API_KEY", secret)
    cli = script(tmp_path, "leaky-cli", LEAKY_CLI)
    agent = make_agent(org, slug="leaky", runner="command", model=str(cli))
    issue = make_issue(org, title="Print the env", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.COMPLETED, run.failure_reason
    stored = json.dumps(list(RunEvent.objects.filter(run=run).values_list("data", flat=True)))
    assert "env says [redacted]" in stored
    assert secret not in stored and secret not in run.stdout


class Clock:
    """The scheduler's clock, moved by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_it_fires_a_heartbeat_every_interval_and_not_before(org: Any) -> None:
    agent = make_agent(org, slug="beat", runner="noop", heartbeat_enabled=True, heartbeat_interval_s=30)
    make_issue(org, title="Open work", assignee=agent)
    Run.objects.all().delete()
    clock = Clock()
    scheduler = Scheduler(clock=clock)

    def beats_at(t: float) -> int:
        clock.now = 1000.0 + t
        scheduler._heartbeats()
        return Run.objects.filter(agent=agent, mode="heartbeat").count()

    try:
        assert beats_at(0) == 0  # the first one is due one interval after the scheduler saw the agent
        assert beats_at(29.9) == 0
        assert beats_at(31) == 1
        Run.objects.filter(agent=agent).update(status=RunStatus.COMPLETED)
        assert beats_at(45) == 1  # the next is counted from the last one
        assert beats_at(60.5) == 1
        assert beats_at(61.5) == 2
    finally:
        scheduler.close()


def test_it_counts_a_busy_agents_heartbeat_as_done_and_never_beats_faster_than_five_seconds(org: Any) -> None:
    agent = make_agent(org, slug="beat", runner="noop", heartbeat_enabled=True, heartbeat_interval_s=10)
    # A row saved before the service enforced its minimum (10 s): the scheduler still floors it at 5 s.
    Agent.objects.filter(pk=agent.pk).update(heartbeat_interval_s=1)
    make_run(agent, issue=make_issue(org, title="Open work", assignee=agent), status=RunStatus.RUNNING)  # busy
    clock = Clock()
    scheduler = Scheduler(clock=clock)

    def beat_at(t: float) -> int:
        clock.now = 1000.0 + t
        scheduler._heartbeats()
        return Run.objects.filter(agent=agent, mode="heartbeat").count()

    try:
        assert beat_at(0) == 0
        assert beat_at(5.5) == 0  # due (5 s at least), but busy: its current run stands for the heartbeat
        Run.objects.filter(agent=agent).update(status=RunStatus.COMPLETED)
        assert beat_at(7) == 0  # not right after the busy one: a full interval later
        assert beat_at(11) == 1
    finally:
        scheduler.close()


def test_it_logs_a_pass_that_raises_and_keeps_scheduling(
    org: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(scheduler_module, "FULL_PASS_S", 0.0)  # a pass on every wake-up, not once a second
    scheduler = Scheduler(poll_s=0.01)
    real_pass = scheduler.pass_once
    calls: list[str] = []

    def flaky_pass() -> int:
        calls.append("pass")
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        if len(calls) == 2:
            make_issue(org, title="After the failure", assignee=make_agent(org, slug="w", runner="noop"))
            Run.objects.all().delete()
            return real_pass()
        if Run.objects.filter(status=RunStatus.COMPLETED).exists() or len(calls) > 500:
            scheduler.request_stop()
        return real_pass()

    monkeypatch.setattr(scheduler, "pass_once", flaky_pass)
    caplog.set_level("ERROR", logger="runners.scheduler")

    scheduler.run_forever()

    failed = [r for r in caplog.records if r.getMessage() == "scheduler pass failed"]
    assert len(failed) == 1 and failed[0].exc_info is not None and "database is locked" in str(failed[0].exc_info[1])
    assert len(calls) > 2  # the loop went on after the failure
    assert Run.objects.filter(status=RunStatus.COMPLETED).exists()  # and the next passes still started work


def test_it_asks_for_due_routines_and_audits_at_most_every_periodic_interval(
    org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop's full passes run the periodic checks (routines, audits) only every PERIODIC_S; a direct
    pass_once() (``--once``, tests) always runs them."""
    monkeypatch.setattr(scheduler_module, "FULL_PASS_S", 0.0)  # a full pass on every wake-up
    monkeypatch.setattr(scheduler_module, "PERIODIC_S", 3600.0)
    periodic: list[float] = []
    monkeypatch.setattr(scheduler_module, "periodic_run", lambda: periodic.append(time.monotonic()))
    scheduler = Scheduler(poll_s=0.01)
    passes: list[int] = []
    real_pass = scheduler.pass_once

    def counted_pass() -> int:
        passes.append(1)
        if len(passes) >= 20:
            scheduler.request_stop()
        return real_pass()

    monkeypatch.setattr(scheduler, "pass_once", counted_pass)
    monkeypatch.setattr(scheduler, "_next_full_pass", lambda now: now)  # idle or not
    scheduler.run_forever()
    assert len(passes) >= 20 and len(periodic) == 1  # the first full pass only

    other = Scheduler(poll_s=0.01)
    try:
        other.pass_once()
        other.pass_once()
    finally:
        other.close()
    assert len(periodic) == 3


def test_it_makes_no_full_pass_while_idle_until_something_commits(org: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Idle on SQLite, the loop only probes the commit counter; a commit by anyone brings the next pass."""
    scheduler = Scheduler(poll_s=0.01)
    passes: list[int] = []
    probes: list[int] = []
    real_pass, real_changed = scheduler.pass_once, scheduler._changed

    def counted_pass() -> int:
        passes.append(1)
        return real_pass()

    def counted_changed() -> bool:
        probes.append(1)
        return real_changed()

    monkeypatch.setattr(scheduler, "pass_once", counted_pass)
    monkeypatch.setattr(scheduler, "_changed", counted_changed)
    thread = threading.Thread(target=scheduler.run_forever)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        # 150 probes 10 ms apart: past FULL_PASS_S (1 s), when the old loop passed again regardless.
        while len(probes) < 150 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(probes) >= 150
        assert len(passes) == 1  # the first pass only: nothing committed, no clock due
        issue = make_issue(org, title="Wakes it", assignee=make_agent(org, slug="idle-noop", runner="noop"))
        deadline = time.monotonic() + 30
        while not Run.objects.filter(issue=issue, status=RunStatus.COMPLETED).exists():
            assert time.monotonic() < deadline, "the commit did not bring a pass"
            time.sleep(0.02)
        assert len(passes) >= 2
    finally:
        scheduler.request_stop()
        thread.join(timeout=30)


def test_it_passes_idle_at_the_next_clock_and_every_second_while_work_is_queued(org: Any) -> None:
    now = {"t": 1000.0}
    scheduler = Scheduler(poll_s=0.01, clock=lambda: now["t"])
    try:
        scheduler._next_ship_poll = time.monotonic() + 60
        scheduler._next_worker_health = now["t"] + 30
        scheduler._queued_left = False
        assert scheduler._next_full_pass(500.0) == 500.0 + scheduler_module.PERIODIC_S
        scheduler.heartbeat_due = {1: now["t"] + 3.5, 2: now["t"] + 200}
        assert scheduler._next_full_pass(500.0) == 503.5  # the next heartbeat
        scheduler.heartbeat_due = {1: now["t"] + 0.2}
        assert scheduler._next_full_pass(500.0) == 500.0 + scheduler_module.FULL_PASS_S  # never faster
        scheduler.heartbeat_due = {}
        scheduler._queued_left = True  # a run still queued (deferred, or every slot busy): its time may come
        assert scheduler._next_full_pass(500.0) == 500.0 + scheduler_module.FULL_PASS_S
    finally:
        scheduler.close()


def test_it_knows_whether_its_last_claim_left_runs_queued(org: Any) -> None:
    scheduler = Scheduler(poll_s=0.01, max_workers=1)
    try:
        scheduler._claim()
        assert scheduler._queued_left is False
        agent = make_agent(org, slug="slow-noop", runner="noop")
        make_run(agent, issue=make_issue(org), status=RunStatus.QUEUED, not_before=timezone.now() + timedelta(hours=1))
        scheduler._claim()
        assert scheduler._queued_left is True  # deferred: the loop keeps looking once a second
    finally:
        scheduler.close()


def test_it_records_a_run_whose_execution_raises_before_it_can_record_anything(
    org: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A claimed run must never stay ``running`` (it holds its agent): an exception escaping execute_run, such as
    no database connection free in the pool, is logged and the run recorded as failed."""
    agent = make_agent(org, slug="unlucky", runner="noop")
    run = make_run(agent, issue=make_issue(org), status=RunStatus.RUNNING, claimed_by="test:1")

    def no_connection(run_id: int, *, shutdown: Any = None) -> str:
        raise RuntimeError("couldn't get a connection after 20.00 sec")

    monkeypatch.setattr(scheduler_module, "execute_run", no_connection)
    caplog.set_level("ERROR", logger="runners.scheduler")
    scheduler = Scheduler(poll_s=0.01)
    try:
        assert scheduler._execute(run.pk) == RunStatus.FAILED
    finally:
        scheduler.close()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "could not execute" in run.failure_reason
    assert any("could not be executed" in r.getMessage() for r in caplog.records)

"""The scheduler loop: events in, runs out.

One process (``manage.py scheduler``) runs :class:`Scheduler`. Each pass reads the new rows
of the durable event feed (``runners.dispatch``), fires the due heartbeats, and claims
queued runs into a bounded thread pool (``runners.execution.execute_run``). Between passes
it sleeps on a wake-up flag with a short timeout and looks for database changes cheaply:
on SQLite ``PRAGMA data_version`` (no table read; it changes when another connection
commits), elsewhere an indexed ``id > cursor`` probe. A full pass also runs once a second
as a safety net while runs are running or queued (and always off SQLite); an idle SQLite
scheduler, which sees every commit in the probe, passes only when a clock is due (the next
heartbeat, pull-request poll, worker health check) and at least every ``PERIODIC_S``.

Start-up recovery: runs left ``running`` by a dead scheduler are marked failed (their
orphaned process groups are killed when they can be identified), their issues get a
system comment, crashed worktrees are pruned, containers of runs that no longer run are
removed (by their ``mesa.run`` label), and pending work is dispatched again.
Stop (SIGTERM/SIGINT → :meth:`Scheduler.request_stop`): running runs are cancelled and
recorded; nothing is left ``running``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection

from agents.keys import run_keys_revoke
from agents.models import Agent, AgentStatus
from issues.comments import system_comment
from orgs.commits import CommitWatch, release_pooled_connection
from orgs.events import add_listener, remove_listener
from orgs.models import Event
from runners.claims import any_queued
from runners.companions import periodic_run
from runners.dispatch import (
    Wake,
    agent_has_work,
    dispatch,
    dispatch_claimed_events,
    dispatch_cursor_start,
    pending_wakes,
)
from runners.execution import execute_run
from runners.models import ACTIVE_RUN_STATUSES, Run, RunMode, RunStatus
from runners.processes import process_is_run, started_after
from runners.sandboxes.container import remove_leftovers
from runners.sandboxes.engine import docker_client, engine_answers
from runners.services import heartbeat_capped, run_claim, run_finish, scheduler_beat, worker_name
from runners.shipping import ship_poll
from runners.wake import WAKE_TYPES
from runners.wakeups import listen
from runners.worker_health import worker_health_pass
from runners.workers import worker_leftovers
from runners.worktrees import worktrees_prune

log = logging.getLogger(__name__)

FULL_PASS_S = 1.0
# The periodic checks (routines, audits: runners.companions.periodic_run) in the loop's full passes: at most this
# often. Their schedules are cron minutes and days; asking for due rows every second was most of an idle
# scheduler's CPU.
PERIODIC_S = 10.0
BEAT_S = 5.0


def _fail_unstarted(run_id: int) -> None:
    """Record as failed a claimed run whose execution raised before it could record anything itself."""
    connection.close()  # it may be what failed: the next query opens a fresh one
    try:
        run = Run.objects.filter(pk=run_id, status=RunStatus.RUNNING).first()
        if run is not None:
            run_finish(run=run, status=RunStatus.FAILED, failure_reason="Mesa could not execute this run (see its log)")
    except Exception:
        log.exception("could not record the failure of run %s", run_id)


def _pid_alive(pid: int) -> bool:
    """True when ``pid`` is a running process. A zombie (exited, not yet reaped) is dead, though
    ``os.kill(pid, 0)`` still succeeds on it: its state in /proc says so."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc to ask: trust the signal check
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def recover(*, worker: str) -> list[int]:
    """Fail the runs a dead scheduler left ``running`` (a cancelled one ends ``cancelled``); returns their ids."""

    host = socket.gethostname()
    recovered: list[int] = []
    for run in Run.objects.filter(status=RunStatus.RUNNING).select_related("issue", "org", "agent"):
        owner_host, _, owner_pid = run.claimed_by.rpartition(":")
        if (
            owner_host == host
            and owner_pid.isdigit()
            and int(owner_pid) != os.getpid()
            and _pid_alive(int(owner_pid))
            and not started_after(int(owner_pid), run.started_at)  # a reused pid is not the scheduler that claimed it
            and run.claimed_by != worker
        ):
            continue  # another live scheduler on this machine owns it
        if owner_host and owner_host != host:
            continue  # owned by a scheduler on another machine: its own start-up recovers it
        if run.pid and process_is_run(run.pid, run.pk, run.pid_start):  # never a recycled pid
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(run.pid, signal.SIGKILL)
        if run.cancel_requested:
            # Someone cancelled it and its scheduler died before stopping it: it ends as they asked.
            reason = "cancelled while running (its scheduler had stopped; recovered at start-up)"
            if run_finish(run=run, status=RunStatus.CANCELLED, failure_reason=reason):
                recovered.append(run.pk)
                run_keys_revoke(run_id=run.pk)
            continue
        reason = "the scheduler stopped while this run was running (crash or kill); recovered at start-up"
        if run_finish(run=run, status=RunStatus.FAILED, failure_reason=reason):
            recovered.append(run.pk)
            run_keys_revoke(run_id=run.pk)
            if run.issue is not None:
                system_comment(
                    issue=run.issue,
                    body=f"Run {run.pk} of {run.agent.slug} was interrupted (the scheduler stopped) and is "
                    "recorded as failed. The work will be picked up again.",
                )
    return recovered


def _remove_dead_containers(live_run_ids: set[int]) -> list[str]:
    """Containers of runs that no longer run (their scheduler was killed): removed, by label."""
    if not engine_answers():
        return []
    try:
        client = docker_client()
        removed = remove_leftovers(client, live_run_ids=live_run_ids)
        return removed + worker_leftovers(client=client, live_run_ids=live_run_ids)  # runs exec'd into workers
    except Exception:  # the engine went away meanwhile: the next start tries again
        log.exception("could not remove leftover run containers")
        return []


class _Waker:
    """Wakes the loop: from worker threads (``set``) or other processes (``runners.wakeups``: a local socket,
    PostgreSQL LISTEN or Redis pub/sub)."""

    def __init__(self) -> None:
        self._r, self._w = socket.socketpair()
        self._r.setblocking(False)
        self._w.setblocking(False)
        self.external = listen()

    def set(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            self._w.send(b"!")

    def wait(self, timeout: float) -> bool:
        fd = self.external.fileno()
        readable, _, _ = select.select([self._r.fileno(), fd] if fd >= 0 else [self._r.fileno()], [], [], timeout)
        return bool(readable)

    def clear(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            while self._r.recv(4096):
                pass
        self.external.drain()

    def close(self) -> None:
        self.external.close()
        self._r.close()
        self._w.close()


class Scheduler:
    def __init__(
        self,
        *,
        poll_s: float | None = None,
        max_workers: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.worker = worker_name()
        self.clock = clock  # when heartbeats are due (a test drives it instead of waiting)
        self.poll_s = settings.MESA_SCHEDULER_POLL_S if poll_s is None else poll_s
        self.max_workers = max_workers or max(1, settings.MESA_MAX_RUNS)
        self.pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="mesa-run")
        self.stopping = threading.Event()  # set on SIGTERM: running runs are cancelled
        self.wake = _Waker()
        self.futures: dict[int, Future[str]] = {}
        self.cursor = 0
        self.heartbeat_due: dict[int, float] = {}
        self._commits = CommitWatch()
        self._queued_left = True  # queued runs that the last pass did not start (unknown before the first)
        self._next_full = 0.0
        self._next_beat = 0.0
        self._next_heartbeat_check = 0.0
        self._next_ship_poll = 0.0
        # The first health pass one interval after start: start-up recovery has just looked at the workers.
        self._next_worker_health = self.clock() + settings.MESA_WORKER_HEALTH_SECONDS
        self._next_periodic = 0.0
        self._periodic_due = True  # pass_once() called directly (tests, --once) always runs them
        self._lock = threading.Lock()

    # --- lifecycle ------------------------------------------------------------------
    def request_stop(self, *_: object) -> None:
        self.stopping.set()
        self.wake.set()

    def _on_event(self, event: Event) -> None:
        # Only events that can start work: a streamed output line (run_event) must not cost a pass.
        if event.type in WAKE_TYPES:
            self.wake.set()

    def start(self) -> None:
        """Start-up: recovery, worktree pruning, re-dispatch of pending work."""
        # Several beats missed: no scheduler is alive, so recovery below stands in for the missed events.
        self.cursor = dispatch_cursor_start(idle_after=timedelta(seconds=BEAT_S * 4))
        recovered = recover(worker=self.worker)
        keep = set(Run.objects.filter(status=RunStatus.RUNNING).values_list("id", flat=True))
        dirs = sorted(set(Agent.objects.exclude(working_dir="").values_list("working_dir", flat=True)))
        pruned = worktrees_prune(repo_dirs=dirs, keep_run_ids=keep)
        containers = _remove_dead_containers(keep)
        queued = 0
        for wake in pending_wakes():
            if dispatch(wake) is not None:
                queued += 1
        log.info(
            "scheduler %s started: %d runs recovered, %d worktrees pruned, %d containers removed, %d pending runs",
            self.worker,
            len(recovered),
            len(pruned),
            len(containers),
            queued,
        )
        add_listener(self._on_event)
        scheduler_beat(worker=self.worker)

    def close(self, *, timeout: float | None = None) -> None:
        """Cancel what runs, wait for it to be recorded, and make sure nothing is left ``running``."""
        self.stopping.set()
        remove_listener(self._on_event)
        grace = float(settings.MESA_KILL_GRACE_S) + 5.0 if timeout is None else timeout
        deadline = time.monotonic() + grace
        for future in list(self.futures.values()):
            with contextlib.suppress(Exception):  # the run records its own failure
                future.result(timeout=max(0.1, deadline - time.monotonic()))
        self.pool.shutdown(wait=False, cancel_futures=True)
        for run in Run.objects.filter(status=RunStatus.RUNNING, claimed_by=self.worker):
            run_finish(run=run, status=RunStatus.CANCELLED, failure_reason="the scheduler was stopped")
        self.wake.close()
        close_old_connections()

    # --- one pass -------------------------------------------------------------------
    def _changed(self) -> bool:
        """Did anything commit since the last look? Cheap enough to ask 20 times a second."""
        try:
            if connection.vendor == "sqlite":
                return self._commits.changed()
            return Event.objects.filter(id__gt=self.cursor).exists()
        except Exception:  # a DB hiccup: reconnect and do a full pass
            log.exception("change probe failed")
            close_old_connections()
            return True

    def _next_full_pass(self, now: float) -> float:
        """When the next full pass is due if nothing commits and nothing wakes the loop before.

        Once a second while runs are running or queued (a deferred run's time may come) and on databases
        without a commit counter. Idle on SQLite, where every commit shows in ``_changed``, only the
        clocks are left: the next heartbeat, pull-request poll, worker health check or periodic check.
        """
        if connection.vendor != "sqlite" or self.futures or self._queued_left:
            return now + FULL_PASS_S
        clock = self.clock()
        rest = min(
            PERIODIC_S,
            self._next_ship_poll - time.monotonic(),
            self._next_worker_health - clock,
            min(self.heartbeat_due.values(), default=clock + PERIODIC_S) - clock,
        )
        return now + max(FULL_PASS_S, rest)

    def pass_once(self) -> int:
        """Dispatch new events, fire due heartbeats, claim and start runs. Returns runs started."""
        self.cursor, _ = dispatch_claimed_events()
        self._heartbeats()
        self._ship_poll()
        self._worker_health()
        if self._periodic_due:
            periodic_run()  # registered by the apps above the engine (routines, audits)
        return self._claim()

    def _ship_poll(self) -> None:
        """Read back the state of open pull requests every MESA_SHIP_POLL_S seconds."""
        now = time.monotonic()
        if now < self._next_ship_poll:
            return
        self._next_ship_poll = now + settings.MESA_SHIP_POLL_S
        try:
            ship_poll()
        except Exception:
            log.exception("reading pull requests back failed")

    def _worker_health(self) -> None:
        """Every MESA_WORKER_HEALTH_SECONDS: check the running persistent workers, restart one that does not answer."""
        now = self.clock()
        if now < self._next_worker_health:
            return
        self._next_worker_health = now + max(1, settings.MESA_WORKER_HEALTH_SECONDS)
        try:
            worker_health_pass()
        except Exception:
            log.exception("the workers' health pass failed")

    def _heartbeats(self) -> None:
        now = self.clock()
        if now < self._next_heartbeat_check:
            return
        self._next_heartbeat_check = now + 1.0
        agents = Agent.objects.filter(heartbeat_enabled=True, status=AgentStatus.ACTIVE).only(
            "id", "heartbeat_interval_s", "org_id", "daily_token_limit", "daily_cost_limit_usd"
        )
        seen: set[int] = set()
        for agent in agents:
            seen.add(agent.pk)
            interval = max(5, agent.heartbeat_interval_s or 300)
            due = self.heartbeat_due.setdefault(agent.pk, now + interval)
            if now < due:
                continue
            self.heartbeat_due[agent.pk] = now + interval
            if Run.objects.filter(agent=agent, status__in=ACTIVE_RUN_STATUSES).exists():
                continue  # busy: its current run is the heartbeat
            if not agent_has_work(agent):
                continue  # nothing to do: no run, no tokens
            if heartbeat_capped(agent.pk):
                continue  # its heartbeats keep failing: retrying them only burns budget
            dispatch(Wake(agent.pk, None, RunMode.HEARTBEAT, "heartbeat"))
        for agent_id in set(self.heartbeat_due) - seen:
            del self.heartbeat_due[agent_id]

    def _claim(self) -> int:
        started = 0
        self._reap()
        if self.stopping.is_set():
            return 0
        # Left True when the loop stops with runs still queued (all slots busy, or none claimable yet).
        self._queued_left = True
        while len(self.futures) < self.max_workers:
            if not any_queued():
                self._queued_left = False
                break
            run = run_claim(worker=self.worker)
            if run is None:
                break
            future = self.pool.submit(self._execute, run.pk)
            with self._lock:
                self.futures[run.pk] = future
            started += 1
        return started

    def _execute(self, run_id: int) -> str:
        try:
            return execute_run(run_id, shutdown=self.stopping)
        except Exception:  # a future's exception is never read: say it, and do not leave the run running
            log.exception("run %s could not be executed", run_id)
            _fail_unstarted(run_id)
            return RunStatus.FAILED
        finally:
            release_pooled_connection()  # after each run (orgs.commits)
            self.wake.set()

    def _reap(self) -> None:
        with self._lock:
            for run_id in [pk for pk, f in self.futures.items() if f.done()]:
                del self.futures[run_id]

    # --- loops ----------------------------------------------------------------------
    def run_forever(self) -> None:
        self.start()
        try:
            while not self.stopping.is_set():
                woken = self.wake.wait(self.poll_s)
                if self.stopping.is_set():
                    break
                self.wake.clear()
                now = time.monotonic()
                changed = self._changed()
                if woken or changed or now >= self._next_full:
                    self._next_full = now + FULL_PASS_S
                    self._periodic_due = now >= self._next_periodic
                    if self._periodic_due:
                        self._next_periodic = now + PERIODIC_S
                    try:
                        self.pass_once()
                        self._next_full = self._next_full_pass(now)
                    except Exception:  # keep scheduling; the next pass retries
                        log.exception("scheduler pass failed")
                        close_old_connections()
                    finally:
                        self._periodic_due = True
                if now >= self._next_beat:
                    self._next_beat = now + BEAT_S
                    try:
                        scheduler_beat(worker=self.worker)
                    except Exception:
                        log.exception("scheduler beat failed")
        finally:
            self.close()

    def run_until_idle(self, *, timeout: float = 60.0) -> None:
        """``--once``: recover, then dispatch and run until nothing is left to start or running."""
        self.start()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and not self.stopping.is_set():
                started = self.pass_once()
                self._reap()
                # Idle: one more look, finished runs may have queued follow-ups or published events.
                if not started and not self.futures and not self.pass_once() and not self.futures:
                    break
                self.wake.wait(0.02)
                self.wake.clear()
        finally:
            self.close()

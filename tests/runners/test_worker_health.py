"""The scheduler's health loop for persistent workers, on a real engine (the ``on_engine`` fixture).

The worker's container is stopped or removed behind Mesa's back, then one health pass runs (called directly;
no loop, no sleeping): the worker is restarted once, or left failed with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.models import Agent
from orgs.actors import Actor
from orgs.errors import Forbidden
from runners.models import Worker, WorkerStatus
from runners.scheduler import Scheduler
from runners.worker_health import HEALTH_ACTOR, worker_health_pass
from runners.workers import WorkerFile, worker_add, worker_check, worker_start
from tests.factories import make_agent, make_user

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _worker(org: Any, repo: Path) -> Worker:
    agent = make_agent(org, slug="boxed", runner="command", sandbox="container", model="true")
    agent.working_dir = str(repo)  # the operator's setting (agents.services), set directly in this test
    agent.env = {"DEPLOY_TOKEN": "s3cret-token-value"}
    agent.save(update_fields=["working_dir", "env"])
    spec = WorkerFile(name="acme-boxed", org="acme", agent="boxed", memory="256m", env_refs={"T": "DEPLOY_TOKEN"})
    worker = worker_add(actor=HEALTH_ACTOR, spec=spec)
    worker_start(actor=HEALTH_ACTOR, worker=worker)
    assert worker.status == WorkerStatus.RUNNING and worker.last_health == "healthy"
    return worker


def test_it_restarts_a_worker_whose_container_was_removed_behind_mesas_back(
    org: Any, on_engine: Any, repo: Path
) -> None:
    worker = _worker(org, repo)
    old = worker.container_id
    on_engine.containers.get(old).remove(force=True)

    results = worker_health_pass()

    assert [(r.name, r.outcome) for r in results] == [("acme-boxed", "restarted")]
    assert results[0].why.startswith("container not found")
    worker.refresh_from_db()
    assert worker.status == WorkerStatus.RUNNING and worker.last_health == "healthy" and worker.last_error == ""
    assert worker.container_id and worker.container_id != old
    assert on_engine.containers.get(worker.container_id).status == "running"
    assert [(r.name, r.outcome) for r in worker_health_pass()] == [("acme-boxed", "healthy")]  # left alone now


def test_it_restarts_a_stopped_container_when_the_scheduler_s_interval_is_due(
    org: Any, on_engine: Any, repo: Path, settings: Any
) -> None:
    settings.MESA_WORKER_HEALTH_SECONDS = 30
    worker = _worker(org, repo)
    on_engine.containers.get(worker.container_id).stop(timeout=1)  # the row still says running
    now = [1000.0]
    scheduler = Scheduler(max_workers=1, clock=lambda: now[0])
    try:
        now[0] += 29
        scheduler._worker_health()
        assert Worker.objects.get(pk=worker.pk).container_id == worker.container_id  # not due yet

        now[0] += 1
        scheduler._worker_health()
    finally:
        scheduler.pool.shutdown()
        scheduler.wake.close()

    worker.refresh_from_db()
    assert worker.status == WorkerStatus.RUNNING and worker.last_health == "healthy"
    assert on_engine.containers.get(worker.container_id).status == "running"


def test_it_leaves_a_worker_failed_with_the_reason_when_the_restart_fails(org: Any, on_engine: Any, repo: Path) -> None:
    worker = _worker(org, repo)
    on_engine.containers.get(worker.container_id).stop(timeout=1)
    Agent.objects.filter(pk=worker.agent_id).update(env={})  # its secret is gone: the restart cannot resolve it

    results = worker_health_pass()

    assert [(r.name, r.outcome) for r in results] == [("acme-boxed", "failed")]
    worker.refresh_from_db()
    assert worker.status == WorkerStatus.FAILED
    assert worker.last_error == (
        "restart after 'container exited' failed: env T: agent boxed has no secret named 'DEPLOY_TOKEN'"
    )
    assert worker_health_pass() == []  # a failed worker is the operator's to start again


def test_it_refuses_a_health_check_to_a_non_operator(org: Any) -> None:
    make_agent(org, slug="boxed", runner="command", sandbox="container", model="true")
    worker = worker_add(actor=HEALTH_ACTOR, spec=WorkerFile(name="acme-boxed", org="acme", agent="boxed"))
    with pytest.raises(Forbidden):
        worker_check(actor=Actor.human(make_user()), worker=worker)

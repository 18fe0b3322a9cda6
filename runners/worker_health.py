"""The scheduler's health loop for persistent workers (runners/workers.py).

Every ``MESA_WORKER_HEALTH_SECONDS`` the scheduler calls :func:`worker_health_pass`: each worker whose row says
``running`` is asked (``worker_check``: an ``exec`` of ``true``). One that does not answer — its container
stopped, killed or removed behind Mesa's back — is marked ``unhealthy`` with a conditional update (only the
caller that moved it from ``running`` restarts it; runs meanwhile use disposable containers) and restarted
once through ``worker_start``, the service of ``manage.py worker start``. A restart that fails, or a
restarted worker that still does not answer, leaves the worker ``failed`` with the reason in ``last_error``;
the loop does not try it again (the operator starts it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from orgs.actors import Actor
from runners.models import Worker, WorkerStatus
from runners.sandboxes.engine import docker_client
from runners.workers import worker_check, worker_start

log = logging.getLogger(__name__)

# What the row may say while a restart is under way: marked, started again, or failed to start (worker_start).
_RESTARTING = (WorkerStatus.UNHEALTHY, WorkerStatus.RUNNING, WorkerStatus.FAILED)

HEALTH_ACTOR = Actor.system("scheduler")  # the operator's system actor, as for the scheduler's other work


@dataclass(frozen=True)
class HealthResult:
    """What a pass found of one worker: ``healthy``, ``restarted`` or ``failed``; ``why`` when not healthy."""

    name: str
    outcome: str
    why: str = ""


def _mark(worker: Worker, *, old: str, new: str, **fields: Any) -> bool:
    """Conditional update of the row (``old`` → ``new``); False when someone else changed it first."""
    with transaction.atomic():
        done = Worker.objects.filter(pk=worker.pk, status=old).update(status=new, updated_at=timezone.now(), **fields)
    if done:
        worker.status = new
        for key, value in fields.items():
            setattr(worker, key, value)
    return bool(done)


def _failed(worker: Worker, reason: str) -> HealthResult:
    # Conditional: an operator who stopped (or removed) the worker meanwhile has the last word.
    with transaction.atomic():
        Worker.objects.filter(pk=worker.pk, status__in=_RESTARTING).update(
            status=WorkerStatus.FAILED, last_error=reason[:2000], updated_at=timezone.now()
        )
    worker.status, worker.last_error = WorkerStatus.FAILED, reason[:2000]
    log.warning("worker %s: %s", worker.name, reason)
    return HealthResult(worker.name, "failed", reason)


def worker_restart_if_unhealthy(*, actor: Actor, worker: Worker, client: Any = None) -> HealthResult:
    """Check one running worker; restart it once when it does not answer (see the module's docstring)."""
    health = worker_check(actor=actor, worker=worker, client=client)
    if health == "healthy":
        return HealthResult(worker.name, "healthy")
    if not _mark(worker, old=WorkerStatus.RUNNING, new=WorkerStatus.UNHEALTHY, last_error=f"unhealthy: {health}"):
        return HealthResult(worker.name, "skipped", health)  # stopped, removed or taken by another pass meanwhile
    log.warning("worker %s is not healthy (%s): restarting it", worker.name, health)
    try:
        worker_start(actor=actor, worker=worker, client=client)
    except Exception as exc:  # the service's Conflict / InvalidInput, or the engine's own error
        message = getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}"
        return _failed(worker, f"restart after {health!r} failed: {message}")
    if worker.last_health != "healthy":
        return _failed(worker, f"restarted after {health!r}, still not healthy: {worker.last_health}")
    return HealthResult(worker.name, "restarted", health)


def worker_health_pass(*, actor: Actor = HEALTH_ACTOR, client: Any = None) -> list[HealthResult]:
    """One pass over the workers whose row says ``running`` (the scheduler's, every MESA_WORKER_HEALTH_SECONDS)."""
    workers = list(Worker.objects.filter(status=WorkerStatus.RUNNING).select_related("org", "agent"))
    if not workers:
        return []
    try:
        client = client or docker_client()
    except RuntimeError:  # no engine configured: worker_check records that, and the restart says why it fails
        client = None
    return [worker_restart_if_unhealthy(actor=actor, worker=worker, client=client) for worker in workers]

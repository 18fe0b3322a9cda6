"""Persistent workers (the noun): the spec file, the operator's services and the one selector.

A worker is a long-lived container per agent (runners/sandboxes/worker.py) that the agent's runs
``exec`` into instead of starting a container each. Only the instance operator drives workers
(``manage.py worker``; every service refuses a non-operator actor).

The spec file is TOML (``.toml``), JSON (``.json``) or YAML (``.yaml``/``.yml``: PyYAML comes with
drf-spectacular; still checked, as Mesa does not declare it itself). Keys::

    name = "acme-dev"            # required: a slug, unique on this Mesa
    org = "acme"                 # required: the org's slug
    agent = "dev"                # required: the agent's slug (one worker per agent)
    image = "localhost/mesa-worker:latest"   # optional: else the agent's container_image, else MESA_WORKER_IMAGE
    credential_sets = ["claude"] # optional: agents.models.CredentialSet names (read-only copies of logins)
    [limits]                     # optional: cpus (float), memory ("2g"), pids (int)
    [env]                        # optional: VARIABLE = "SECRET" (a variable of the agent's encrypted env)
                                 #           or "other-agent.SECRET" (another agent of the same org)

An env value is a *reference*, never the secret itself: it is resolved when the container starts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from agents.models import Agent, CredentialSet, Sandbox
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput, NotFound
from orgs.models import Org
from runners.models import Worker, WorkerStatus
from runners.sandboxes.container import MODEL_URL_VARS, network_plan
from runners.sandboxes.engine import docker_client, worker_image
from runners.sandboxes.worker import (
    RUNS,
    WorkerSpec,
    create_worker_container,
    credentials_dir,
    kill_run,
    worker_dir,
    worker_health,
    worker_objects_mount,
)
from runners.worktrees import open_repo

_KEYS = {"name", "org", "agent", "image", "limits", "env", "credential_sets"}
_LIMIT_KEYS = {"cpus", "memory", "pids"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REF = re.compile(r"^(?:([a-z0-9][a-z0-9-]*)\.)?([A-Za-z_][A-Za-z0-9_]*)$")
_MEMORY = re.compile(r"^[0-9]+[bkmg]?$", re.IGNORECASE)


def yaml_available() -> bool:
    try:
        import yaml  # noqa: F401  (only asked whether it is importable: Mesa does not declare PyYAML itself)
    except ImportError:
        return False
    return True


@dataclass
class WorkerFile:
    """A parsed, checked spec file (names only: the org, agent and secrets are checked by :func:`worker_add`)."""

    name: str
    org: str
    agent: str
    image: str = ""
    cpus: float = 1.0
    memory: str = "2g"
    pids: int = 256
    env_refs: dict[str, str] = field(default_factory=dict)
    credential_sets: list[str] = field(default_factory=list)


def worker_file_parse(text: str, *, filename: str) -> WorkerFile:
    """Parse a worker spec by its file name's suffix; :class:`InvalidInput` with a clear message when wrong."""
    suffix = Path(filename).suffix.lower()
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            if not yaml_available():
                raise InvalidInput(f"{filename}: YAML needs PyYAML, which is not installed here; use TOML or JSON")
            import yaml  # checked above: PyYAML comes with drf-spectacular, not declared by Mesa itself

            data = yaml.safe_load(text)
        else:
            raise InvalidInput(f"{filename}: unknown format {suffix or '(no suffix)'!r}; use .toml or .json (or .yaml)")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{filename}: not valid {suffix[1:].upper()}: {exc}") from exc
    except InvalidInput:
        raise
    except Exception as exc:  # yaml.YAMLError (PyYAML is optional, so its type is not imported here)
        raise InvalidInput(f"{filename}: not valid YAML: {exc}") from exc
    return _checked(data, filename)


def _checked(data: Any, where: str) -> WorkerFile:
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: expected a table of keys (name, org, agent, ...), got {type(data).__name__}")
    unknown = sorted(set(data) - _KEYS)
    if "mounts" in unknown:
        raise InvalidInput(f"{where}: `mounts` cannot be set: a worker mounts only its agent's run directory")
    if unknown:
        raise InvalidInput(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_KEYS))})")
    for key in ("name", "org", "agent"):
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"{where}: `{key}` is required (a slug)", field=key)
        if not _SLUG.match(value):
            raise InvalidInput(f"{where}: `{key}` must be a lowercase slug, got {value!r}", field=key)
    image = data.get("image", "")
    if not isinstance(image, str):
        raise InvalidInput(f"{where}: `image` must be a string", field="image")
    spec = WorkerFile(name=data["name"], org=data["org"], agent=data["agent"], image=image)
    limits = data.get("limits", {})
    if not isinstance(limits, dict):
        raise InvalidInput(f"{where}: `limits` must be a table (cpus, memory, pids)", field="limits")
    if unknown := sorted(set(limits) - _LIMIT_KEYS):
        raise InvalidInput(f"{where}: unknown limit(s) {', '.join(unknown)} (known: cpus, memory, pids)")
    cpus = limits.get("cpus", spec.cpus)
    if isinstance(cpus, bool) or not isinstance(cpus, int | float) or not 0 < cpus <= 256:
        raise InvalidInput(f"{where}: `limits.cpus` must be a number above 0, got {cpus!r}", field="limits.cpus")
    memory = str(limits.get("memory", spec.memory))
    if not _MEMORY.match(memory):
        raise InvalidInput(f"{where}: `limits.memory` must look like 512m or 2g, got {memory!r}", field="limits.memory")
    pids = limits.get("pids", spec.pids)
    if isinstance(pids, bool) or not isinstance(pids, int) or pids < 16:
        raise InvalidInput(f"{where}: `limits.pids` must be an integer >= 16, got {pids!r}", field="limits.pids")
    spec.cpus, spec.memory, spec.pids = float(cpus), memory, pids
    env = data.get("env", {})
    if not isinstance(env, dict):
        raise InvalidInput(f'{where}: `env` must be a table of VARIABLE = "SECRET NAME"', field="env")
    for name, ref in env.items():
        if not _VAR.match(str(name)):
            raise InvalidInput(f"{where}: `env.{name}` is not a variable name", field="env")
        if not isinstance(ref, str) or not _REF.match(ref):
            raise InvalidInput(
                f'{where}: `env.{name}` must name a secret ("NAME" or "agent-slug.NAME"), not a value',
                field="env",
            )
    spec.env_refs = {str(k): str(v) for k, v in env.items()}
    sets = data.get("credential_sets", [])
    if not isinstance(sets, list) or any(s not in CredentialSet.values for s in sets):
        raise InvalidInput(
            f"{where}: `credential_sets` must be a list of {', '.join(CredentialSet.values)}, got {sets!r}",
            field="credential_sets",
        )
    spec.credential_sets = list(sets)
    return spec


def _require_operator(actor: Actor) -> None:
    if not actor.operator:
        raise Forbidden("workers are the instance operator's (manage.py worker)", code="operator_only")


def _resolve_env(agent: Agent, refs: dict[str, str]) -> dict[str, str]:
    """The values of a worker's secret references (the org's encrypted agent env); InvalidInput when one is missing."""
    values: dict[str, str] = {}
    for name, ref in refs.items():
        match = _REF.match(ref)
        owner_slug, secret = (match.group(1), match.group(2)) if match else ("", ref)
        owner = agent
        if owner_slug and owner_slug != agent.slug:
            found = Agent.objects.filter(org_id=agent.org_id, slug=owner_slug).first()
            if found is None:
                raise InvalidInput(f"env {name}: no agent {owner_slug!r} in org {agent.org.slug}")
            owner = found
        value = str((owner.env or {}).get(secret, ""))
        if not value:
            raise InvalidInput(f"env {name}: agent {owner.slug} has no secret named {secret!r}")
        values[name] = value
    return values


def worker_get(name: str) -> Worker:
    """The worker called ``name`` (operator scope: all orgs); :class:`NotFound` otherwise."""
    worker = Worker.objects.select_related("agent", "org").filter(name=name).first()
    if worker is None:
        raise NotFound(f"no worker named {name!r}")
    return worker


def workers_visible(*, actor: Actor, org: Org) -> QuerySet[Worker]:
    """The workers ``actor`` may see: every org's for the operator, an agent its own, else ``org``'s (read-only)."""
    workers = Worker.objects.select_related("agent", "org").order_by("name")
    if actor.operator:
        return workers
    if actor.agent is not None:
        return workers.filter(org=org, agent=actor.agent)
    return workers.filter(org=org)


def worker_for(*, actor: Actor, org: Org, name: str) -> Worker:
    """The worker called ``name`` if ``actor`` may see it (:func:`workers_visible`); :class:`NotFound` otherwise."""
    worker = workers_visible(actor=actor, org=org).filter(name=name).first()
    if worker is None:
        raise NotFound(f"no worker named {name!r}")
    return worker


@transaction.atomic
def worker_add(*, actor: Actor, spec: WorkerFile) -> Worker:
    _require_operator(actor)
    agent = Agent.objects.select_related("org").filter(org__slug=spec.org, slug=spec.agent).first()
    if agent is None:
        raise InvalidInput(f"no agent {spec.agent!r} in org {spec.org!r}")
    if agent.sandbox != Sandbox.CONTAINER:
        raise InvalidInput(f"agent {spec.agent} has sandbox={agent.sandbox}; a worker is for container agents")
    if Worker.objects.filter(agent=agent).exists():
        raise Conflict(f"agent {spec.agent} already has a worker (one per agent)")
    if Worker.objects.filter(name=spec.name).exists():
        raise Conflict(f"a worker named {spec.name!r} exists")
    _resolve_env(agent, spec.env_refs)  # every reference names a secret that exists now
    return Worker.objects.create(
        name=spec.name,
        org=agent.org,
        agent=agent,
        image=spec.image,
        cpus=spec.cpus,
        memory=spec.memory,
        pids=spec.pids,
        env_refs=spec.env_refs,
        credential_sets=spec.credential_sets,
    )


def worker_file_add(*, actor: Actor, text: str, filename: str) -> Worker:
    """Parse a pasted or uploaded spec (its format by ``filename``'s suffix) and add the worker: the operator's."""
    _require_operator(actor)
    return worker_add(actor=actor, spec=worker_file_parse(text, filename=filename))


def _objects_dir(agent: Agent) -> str:
    repo = open_repo(agent.working_dir) if agent.working_dir and Path(agent.working_dir).is_dir() else None
    if repo is None or not repo.working_tree_dir:
        return ""
    return str(Path(repo.common_dir).resolve() / "objects")


def _extra_hosts(agent: Agent) -> dict[str, str]:
    """The names the runs' relays answer for (set when the container is made: /etc/hosts is not per exec).

    The same plan a run computes (runners.sandboxes.container.network_plan), from the same inputs."""
    env = {k: os.environ[k] for k in MODEL_URL_VARS if os.environ.get(k)}
    env.update({str(k): str(v) for k, v in (agent.env or {}).items() if str(v)})
    env["MESA_API_URL"] = settings.MESA_API_URL
    plan, _ = network_plan(env, runner=agent.runner, egress=agent.egress)
    return plan.extra_hosts


def _engine(client: Any) -> Any:
    """The given client, else the configured engine's; :class:`Conflict` (not a crash) when there is none."""
    if client is not None:
        return client
    try:
        return docker_client()
    except RuntimeError as exc:
        raise Conflict(str(exc), code="no_engine") from exc


def _remove_container(client: Any, container_id: str) -> None:
    if not container_id:
        return
    try:
        client.containers.get(container_id).remove(force=True)
    except Exception as exc:  # already gone is fine; anything else is the engine's answer
        if "not found" not in str(exc).lower() and "no such" not in str(exc).lower():
            raise


def worker_start(*, actor: Actor, worker: Worker, client: Any = None) -> Worker:
    """Start the worker's container (a fresh one: secrets are resolved now). Engine calls happen outside
    a transaction; the row changes with a conditional update."""
    _require_operator(actor)
    client = _engine(client)
    agent = worker.agent
    env = _resolve_env(agent, dict(worker.env_refs or {}))
    _remove_container(client, worker.container_id)
    spec = WorkerSpec(
        name=worker.name,
        org=worker.org.slug,
        agent=agent.slug,
        image=worker.image or agent.container_image or worker_image(),
        cpus=worker.cpus,
        memory=worker.memory,
        pids=worker.pids,
        env=env,
        # The spec's sets and the agent's own (``credential_mounts``): the logins its runs would have in a container.
        credential_sets=list(dict.fromkeys([*(worker.credential_sets or []), *(agent.credential_mounts or [])])),
        objects_dir=_objects_dir(agent),
        extra_hosts=_extra_hosts(agent),
    )
    try:
        container = create_worker_container(client, spec)
    except Exception as exc:
        _set(worker, status=WorkerStatus.FAILED, container_id="", last_error=f"{type(exc).__name__}: {exc}"[:2000])
        raise Conflict(f"worker {worker.name} could not start: {exc}") from exc
    _set(worker, status=WorkerStatus.RUNNING, container_id=container.id, last_error="")
    worker_check(actor=actor, worker=worker, client=client)
    return worker


def worker_stop(*, actor: Actor, worker: Worker, client: Any = None) -> Worker:
    """Stop the container (kept until ``rm`` or the next ``start``); runs fall back to disposable containers."""
    _require_operator(actor)
    if worker.container_id:
        try:
            _engine(client).containers.get(worker.container_id).stop(timeout=5)
        except Exception as exc:
            if "not found" not in str(exc).lower() and "no such" not in str(exc).lower():
                raise Conflict(f"worker {worker.name} could not stop: {exc}") from exc
    _set(worker, status=WorkerStatus.STOPPED, last_health="stopped")
    return worker


def worker_remove(*, actor: Actor, worker: Worker, client: Any = None) -> None:
    """Remove the container, the staged logins, the (empty) worker dir and the row."""
    _require_operator(actor)
    try:
        if worker.container_id:
            _remove_container(_engine(client), worker.container_id)
    except Conflict:
        raise
    except Exception as exc:
        raise Conflict(f"worker {worker.name}'s container could not be removed: {exc}") from exc
    shutil.rmtree(credentials_dir(worker.org.slug, worker.agent.slug), ignore_errors=True)
    runs = worker_dir(worker.org.slug, worker.agent.slug)
    if runs.is_dir() and not any(runs.iterdir()):
        runs.rmdir()
    with transaction.atomic():
        Worker.objects.filter(pk=worker.pk).delete()


def worker_check(*, actor: Actor, worker: Worker, client: Any = None) -> str:
    """Ask the container's health now (``exec true``) and record it; returns it ("healthy" or why not)."""
    _require_operator(actor)
    if worker.status != WorkerStatus.RUNNING:
        return worker.status
    try:
        health = worker_health(client or docker_client(), worker.container_id)
    except RuntimeError as exc:  # no engine configured
        health = str(exc)
    _set(worker, last_health=health[:200], last_health_at=timezone.now())
    return health


def _set(worker: Worker, **fields: Any) -> None:
    with transaction.atomic():
        Worker.objects.filter(pk=worker.pk).update(**fields, updated_at=timezone.now())
    for key, value in fields.items():
        setattr(worker, key, value)


def running_worker_of(agent: Agent) -> dict[str, str] | None:
    """What a run needs of its agent's running worker (``ctx.extra["mesa_worker"]``), or None."""
    if agent.sandbox != Sandbox.CONTAINER:
        return None
    row = Worker.objects.filter(agent=agent, status=WorkerStatus.RUNNING).values("name", "container_id").first()
    return {"name": row["name"], "container_id": row["container_id"]} if row else None


def worker_leftovers(*, client: Any, live_run_ids: set[int]) -> list[str]:
    """Start-up recovery: in each running worker, kill the process of every run that no longer runs (a killed
    scheduler's) and remove its worktree (as for a crashed run's worktree); the run dirs removed."""
    removed: list[str] = []
    for worker in Worker.objects.filter(status=WorkerStatus.RUNNING).select_related("org", "agent"):
        runs = worker_dir(worker.org.slug, worker.agent.slug)
        dead = [d for d in sorted(runs.glob("run-*")) if not (d.name[4:].isdigit() and int(d.name[4:]) in live_run_ids)]
        if not dead:
            continue
        try:
            container = client.containers.get(worker.container_id)
            objects = worker_objects_mount(container)
        except Exception:  # the container is gone: only its files are left
            container, objects = None, ""
        for run_dir in dead:
            if container is not None:
                kill_run(container, f"{RUNS}/{run_dir.name}", "KILL")
            shutil.rmtree(run_dir, ignore_errors=True)
            removed.append(str(run_dir))
        if objects:  # the repository forgets the removed worktrees (their branches are free again)
            subprocess.run(
                ["git", "--git-dir", str(Path(objects).parent), "worktree", "prune"], capture_output=True, check=False
            )
    return removed

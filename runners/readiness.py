"""Can an agent's runner run on this machine? "Needs setup" when its CLI is not installed.

A fresh install points every agent at Claude Code, which may not be there: such an agent is
shown as needing setup (dashboard banner, agent list, assignee pickers) and the dispatcher
queues nothing for it, instead of starting runs that fail at once. The check is a ``PATH``
lookup, cheap enough to repeat on every page and wake-up, so installing the CLI (or choosing
another runner in the agent's settings) takes effect at once. A container agent's CLI is the
image's: it needs an engine that answers and has the worker image (a ping cached for seconds,
``runners.sandboxes.engine``); a host agent needs host runs allowed (:func:`host_runs_allowed`).
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Iterable

from django.conf import settings

from agents.models import Agent, AgentStatus, Sandbox
from runners.executor import SubprocessRunner
from runners.models import SchedulerState
from runners.registry import RUNNERS, runner_for
from runners.sandboxes.engine import engine_answers, engine_images, worker_image

# What the banner offers: a runner that needs nothing installed and finishes its runs.
FALLBACK_RUNNER = "dry_run"
HOST_RUNS_OFF = (
    "host runs are off (login mode): the instance operator turns them on in Settings › Runners "
    "(or with MESA_ALLOW_HOST_RUNS=1), or choose the container sandbox"
)


def host_runs_source() -> str:
    """Who decides host runs: "env" (MESA_ALLOW_HOST_RUNS is set), "local" (local mode) or "operator" (the switch)."""
    if getattr(settings, "MESA_HOST_RUNS_PINNED", False):
        return "env"
    return "local" if settings.MESA_ALLOW_HOST_RUNS else "operator"


def host_runs_allowed() -> bool:
    """May a host run start? ``MESA_ALLOW_HOST_RUNS`` when the environment sets it; on in local mode; else the
    instance operator's switch (``runners.services.host_runs_set``), read now (one query: no cache, so a switch
    turned off holds at once in every process)."""
    if settings.MESA_ALLOW_HOST_RUNS:
        return True
    if getattr(settings, "MESA_HOST_RUNS_PINNED", False):
        return False
    return SchedulerState.objects.filter(pk=1, host_runs=True).exists()


def sandbox_problem(agent: Agent, *, images: list[str] | None = None, host_runs: bool | None = None) -> str:
    """ "" when ``agent``'s sandbox can run its CLI here; otherwise why not (``images``: the engine's, if known;
    ``host_runs``: ``host_runs_allowed()`` when the caller has read it, e.g. once for a page's agents)."""
    if agent.runner not in RUNNERS or not isinstance(runner_for(agent.runner), SubprocessRunner):
        return ""  # in-process runners (noop, dry_run, openai) run inside Mesa whatever the sandbox
    if agent.sandbox == Sandbox.HOST:
        allowed = host_runs_allowed() if host_runs is None else host_runs
        return "" if allowed else HOST_RUNS_OFF
    if not engine_answers():
        return "the container sandbox needs an engine: none answers (set DOCKER_HOST, see `manage.py doctor`)"
    image = agent.container_image or worker_image()
    if image not in (engine_images() if images is None else images):
        if agent.container_image:
            return f"its container image {image} is not on the engine (build or pull it, or clear the agent's image)"
        return f"the worker image {image} is not on the engine (build it, or set MESA_WORKER_IMAGE)"
    return ""


def runner_problem(runner: str, *, model: str = "", env: dict[str, str] | None = None) -> str:
    """ "" when ``runner`` can start here; otherwise what is missing, in words.

    ``env`` is the agent's extra environment (its ``PATH`` wins, as in a run); ``model`` is the
    command line of the ``command`` runner.
    """
    if runner not in RUNNERS:
        return f"unknown runner {runner!r}"
    path = (env or {}).get("PATH") or os.environ.get("PATH", os.defpath)
    if runner == "command":
        try:
            argv = shlex.split(model or "")
        except ValueError:
            return "its command line does not parse"
        if not argv:
            return "the command runner has no command set"
        binary = argv[0]
    else:
        binary = type(runner_for(runner)).binary or ""
    if binary and shutil.which(binary, path=path) is None:
        return f"{binary} is not installed (not on PATH)"
    return ""


def agent_problem(agent: Agent, *, images: list[str] | None = None, host_runs: bool | None = None) -> str:
    """Why ``agent`` cannot run here ("" when it can): its runner's CLI, its sandbox (a terminated agent: "").

    ``images``: the engine's image tags when the caller has them (doctor, the Settings page); ``host_runs``:
    whether host runs are allowed, when the caller has read it once for many agents (a page).
    """
    if agent.status == AgentStatus.TERMINATED:
        return ""
    if agent.sandbox == Sandbox.CONTAINER and agent.runner in RUNNERS:
        # The CLI is the image's, not this machine's: only the engine (and its image) matters.
        problem = sandbox_problem(agent, images=images, host_runs=host_runs)
        if problem or isinstance(runner_for(agent.runner), SubprocessRunner):
            return problem
    return runner_problem(agent.runner, model=agent.model, env=dict(agent.env or {})) or sandbox_problem(
        agent, host_runs=host_runs
    )


def agents_needing_setup(agents: Iterable[Agent]) -> list[tuple[Agent, str]]:
    """(agent, problem) for each agent whose runner cannot run here."""
    out = []
    host_runs: bool | None = None
    for agent in agents:
        if host_runs is None and agent.sandbox == Sandbox.HOST:
            host_runs = host_runs_allowed()  # read once for all of them
        problem = agent_problem(agent, host_runs=host_runs)
        if problem:
            out.append((agent, problem))
    return out

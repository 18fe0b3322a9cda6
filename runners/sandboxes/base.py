"""The sandbox interface and its registry.

A sandbox runs one :class:`~runners.executor.SubprocessRunner`'s command for one run and returns
its :class:`~runners.base.Outcome`, with the same contract as :func:`runners.executor.run_subprocess`:
the runner's own parser reads stdout line by line, events go to the sink in order, ``timeout_s`` and
``sink.should_stop()`` stop the process, and nothing of the run is left behind when it returns.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, Protocol

from runners.sandboxes.credentials import codex_tool_available

if TYPE_CHECKING:
    from agents.models import Agent
    from runners.base import EventSink, Outcome, RunContext
    from runners.executor import SubprocessRunner


class Sandbox(Protocol):
    name: str

    def run(self, runner: SubprocessRunner, ctx: RunContext, sink: EventSink) -> Outcome: ...


SANDBOXES: dict[str, str] = {
    "host": "runners.sandboxes.host:HostSandbox",
    "container": "runners.sandboxes.container:ContainerSandbox",
    "worker": "runners.sandboxes.worker:WorkerSandbox",
}


def sandbox_for(name: str) -> Sandbox:
    try:
        module_name, _, class_name = SANDBOXES[name].partition(":")
    except KeyError as exc:
        raise KeyError(f"unknown sandbox {name!r}") from exc
    sandbox: Sandbox = getattr(import_module(module_name), class_name)()
    return sandbox


def sandbox_settings(agent: Agent, env: dict[str, str]) -> dict[str, Any]:
    """What a run takes from its agent's sandbox settings (the run context's ``extra``): the image and
    credential sets of a container run, and ``codex_mcp`` when the agent asks for Codex as an MCP tool and
    the run can reach Codex credentials (``env``: the run's environment)."""
    mounts = list(agent.credential_mounts or [])
    out: dict[str, Any] = {"credential_mounts": mounts}
    if agent.container_image:
        out["image"] = agent.container_image
    if agent.codex_mcp:
        out["codex_mcp"] = codex_tool_available(sandbox=agent.sandbox, credential_mounts=mounts, env=env)
    return out

"""The host sandbox: the process runs on the Mesa machine as the Mesa user (operator's choice only).

With the agent's ``terminal = pty`` it runs under a pseudo-terminal (runners/pty_run.py).
"""

from __future__ import annotations

from runners.base import EventSink, Outcome, RunContext
from runners.executor import SubprocessRunner, run_subprocess
from runners.pty_run import run_pty


class HostSandbox:
    name = "host"

    def run(self, runner: SubprocessRunner, ctx: RunContext, sink: EventSink) -> Outcome:
        if ctx.extra.get("mesa_terminal") == "pty":
            return run_pty(runner, ctx, sink)
        return run_subprocess(runner, ctx, sink)

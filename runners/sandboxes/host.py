"""The host sandbox: the process runs on the Mesa machine as the Mesa user (operator's choice only)."""

from __future__ import annotations

from runners.base import EventSink, Outcome, RunContext
from runners.executor import SubprocessRunner, run_subprocess


class HostSandbox:
    name = "host"

    def run(self, runner: SubprocessRunner, ctx: RunContext, sink: EventSink) -> Outcome:
        return run_subprocess(runner, ctx, sink)

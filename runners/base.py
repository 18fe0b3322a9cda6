"""The runner interface: one small class per way of running an agent.

A runner turns a prepared ``RunContext`` into events. Subprocess runners (the
CLIs) only say which command to start and how to parse one line of its output;
the shared executor (``runners/executor.py``) owns the process group, streaming,
the mid-run budget meter, timeouts and cancellation. In-process runners (the
OpenAI-compatible loop, noop, dry_run) implement ``execute`` themselves and
report through the same ``EventSink``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Protocol


@dataclass
class Usage:
    """Token and cost figures. As a delta (one message) or as totals (a final result)."""

    tokens_in: int = 0
    tokens_out: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cost_usd: Decimal | None = None  # None: the CLI did not say; Mesa prices the tokens

    def __add__(self, other: Usage) -> Usage:
        cost = None
        if self.cost_usd is not None or other.cost_usd is not None:
            cost = (self.cost_usd or Decimal(0)) + (other.cost_usd or Decimal(0))
        return Usage(
            self.tokens_in + other.tokens_in,
            self.tokens_out + other.tokens_out,
            self.cache_read + other.cache_read,
            self.cache_write + other.cache_write,
            cost,
        )

    @property
    def tokens_total(self) -> int:
        return self.tokens_in + self.tokens_out + self.cache_read + self.cache_write


@dataclass
class ParsedEvent:
    """One event of a run's transcript.

    ``type`` is one of: ``system`` (init/meta), ``text`` (assistant text),
    ``tool_use`` (name, input), ``tool_result`` (output, is_error), ``result``
    (the CLI's final summary), ``error``, ``raw`` (an unparseable line, kept).
    ``usage`` is the usage this event adds (drives the mid-run meter);
    ``final`` is the CLI's own run totals, which win over the summed deltas.
    """

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    usage: Usage | None = None
    final: Usage | None = None
    is_error: bool = False


@dataclass
class RunContext:
    run_id: int
    agent_slug: str
    model: str
    prompt: str  # the full task prompt (recorded with the run)
    system_prompt: str  # the agent's archetype/role text
    cwd: Path  # the run's worktree, or the working dir when it is not a git repo
    env: dict[str, str]  # complete environment for the process, MESA_* included
    timeout_s: int
    max_turns: int
    disallowed_tools: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # runner-specific settings (e.g. base_url)


class EventSink(Protocol):
    """Where a runner reports. ``emit`` stores, publishes and meters the event."""

    def emit(self, event: ParsedEvent) -> None: ...

    def should_stop(self) -> str | None:
        """A reason to stop now (``budget_exceeded``, ``timed_out``, ``cancelled``), or None."""
        ...


@dataclass
class Outcome:
    """How a runner's execution ended. The scheduler maps it to the run's final status:
    ``stop_reason`` (``timed_out``, ``budget_exceeded``, ``cancelled``) wins, then a non-empty
    ``failure_reason`` (or a result event with ``is_error``) means ``failed``, else ``completed``."""

    exit_code: int | None
    failure_reason: str = ""
    stdout: str = ""
    num_turns: int | None = None
    stop_reason: str = ""  # why Mesa stopped the process early, "" when it ended by itself
    stderr_tail: str = ""  # the last few KiB of stderr (redacted before storing)
    # The agent could not start at all (no command, CLI missing, no model): its setup is wrong, not
    # its work, so the run's failure also reports the agent as errored.
    setup_error: bool = False


class BaseRunner:
    name: ClassVar[str]
    binary: ClassVar[str | None] = None  # the executable it needs on PATH, for `doctor`
    version_args: ClassVar[tuple[str, ...]] = ("--version",)

    def execute(self, ctx: RunContext, sink: EventSink) -> Outcome:
        raise NotImplementedError


class SubprocessRunner(BaseRunner):
    """A runner that starts one CLI process and parses its stdout line by line."""

    def command(self, ctx: RunContext) -> list[str]:
        raise NotImplementedError

    def stdin(self, ctx: RunContext) -> bytes | None:
        return None

    def env(self, ctx: RunContext) -> dict[str, str]:
        """Extra environment variables this runner's CLI needs, merged over ``ctx.env`` by ``execute``."""
        return {}

    def parse_line(self, line: str) -> list[ParsedEvent]:
        """Parse one line of stdout. Must never raise: unknown input becomes a ``raw`` event."""
        raise NotImplementedError

    def execute(self, ctx: RunContext, sink: EventSink) -> Outcome:
        from dataclasses import replace

        from runners.executor import run_subprocess

        extra_env = self.env(ctx)
        if extra_env:
            ctx = replace(ctx, env={**ctx.env, **extra_env})
        return run_subprocess(self, ctx, sink)

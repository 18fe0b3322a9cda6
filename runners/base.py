"""The runner interface: one small class per way of running an agent.

A runner turns a prepared ``RunContext`` into events. Subprocess runners (the CLIs,
``runners.executor.SubprocessRunner``) only say which command to start, how the CLI takes its
prompt, and which parser reads its output; a fresh parser per run holds that run's state, so
one runner instance can serve any number of runs. The shared executor (``runners/executor.py``)
owns the process group, streaming, timeouts and cancellation. In-process runners (the
OpenAI-compatible loop, noop, dry_run) implement ``execute`` themselves and report through the
same ``EventSink``.

Runners report tokens, and a cost only when the CLI states one; the sink prices the rest
(``runners.sink.Meter``), so a price is computed in exactly one place.

This module imports nothing of Mesa: every other runner module builds on it.
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
    cost_usd: Decimal | None = None  # None: the CLI did not say; the sink prices the tokens
    model: str = ""  # the model that produced these tokens when the CLI names it; "" = the run's model

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
            self.model if self.model == other.model else "",  # a sum over several models has none
        )

    @property
    def tokens_total(self) -> int:
        return self.tokens_in + self.tokens_out + self.cache_read + self.cache_write

    def same_tokens(self, other: Usage) -> bool:
        """True when both count the same tokens in every category (cost and model aside)."""
        return (self.tokens_in, self.tokens_out, self.cache_read, self.cache_write) == (
            other.tokens_in,
            other.tokens_out,
            other.cache_read,
            other.cache_write,
        )


@dataclass
class ParsedEvent:
    """One event of a run's transcript.

    ``type`` is one of: ``system`` (init/meta), ``text`` (assistant text),
    ``tool_use`` (id, name, input), ``tool_result`` (tool_use_id, content, is_error), ``result``
    (the CLI's final summary), ``error``, ``raw`` (an unparseable line, kept). Build the tool
    events with :func:`tool_use` and :func:`tool_result`, so every runner gives them one shape.
    ``usage`` is the usage this event adds (drives the mid-run meter);
    ``final`` is the CLI's own run totals, which win over the summed deltas.
    """

    type: str
    data: dict[str, Any] = field(default_factory=dict)
    usage: Usage | None = None
    final: Usage | None = None
    is_error: bool = False


def tool_use(*, call_id: Any, name: Any, args: Any) -> ParsedEvent:
    """The agent calls a tool: ``{"id", "name", "input"}`` (values as the CLI gave them)."""
    return ParsedEvent("tool_use", {"id": call_id, "name": name, "input": args})


def tool_result(*, call_id: Any, content: str, is_error: bool = False, **extra: Any) -> ParsedEvent:
    """A tool's answer to call ``call_id``: ``{"tool_use_id", "content", "is_error", **extra}``.

    ``content`` is the output text (the caller caps it); ``is_error`` is set on the event too, so
    the sink marks it.
    """
    data = {"tool_use_id": call_id, "content": content, "is_error": is_error, **extra}
    return ParsedEvent("tool_result", data, is_error=is_error)


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


class LineParser(Protocol):
    """Reads one CLI's output for one run; made fresh per run, so it may keep that run's state."""

    def parse_line(self, line: str) -> list[ParsedEvent]:
        """Parse one line of stdout. Must never raise: unknown input becomes a ``raw`` event."""
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
    """One way of running an agent. Instances are shared between runs: they hold no run state."""

    name: ClassVar[str]
    binary: ClassVar[str | None] = None  # the executable it needs on PATH, for `doctor`
    version_args: ClassVar[tuple[str, ...]] = ("--version",)
    # The runner hands its CLI Mesa's MCP server (``$MESA_MCP_URL`` with the run key): the prompt then
    # teaches the mesa tools instead of curl.
    mcp: ClassVar[bool] = False

    def execute(self, ctx: RunContext, sink: EventSink) -> Outcome:
        raise NotImplementedError

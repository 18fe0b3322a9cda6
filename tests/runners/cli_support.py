"""Test helpers for the CLI runners: a recording sink with a budget, contexts, fake binaries."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from runners.base import LineParser, ParsedEvent, RunContext, Usage
from runners.sink import Meter

FAKES_BIN = Path(__file__).resolve().parent.parent / "fakes" / "bin"


class RecordingSink:
    """An EventSink that keeps every event, meters usage like the real sink and enforces a budget.

    ``model`` is the run's model (the agent's), with which the meter prices what the CLI did not.
    """

    def __init__(self, token_budget: int | None = None, cost_budget: Decimal | None = None, model: str = "") -> None:
        self.events: list[ParsedEvent] = []
        self.meter = Meter(model)
        self.token_budget = token_budget
        self.cost_budget = cost_budget
        self.pid: int | None = None

    def emit(self, event: ParsedEvent) -> None:
        self.events.append(event)
        if event.usage is not None:
            self.meter.add(event.usage)
        if event.final is not None:
            self.meter.set_final(event.final)

    @property
    def metered(self) -> Usage:
        """The summed (priced) deltas: what the mid-run meter saw."""
        return self.meter.delta

    @property
    def usage(self) -> Usage:
        """The run's totals as the sink keeps them: the CLI's final figures, else the summed deltas."""
        return self.meter.usage

    def should_stop(self) -> str | None:
        if self.token_budget is not None and self.metered.tokens_total > self.token_budget:
            return "budget_exceeded"
        if self.cost_budget is not None and (self.metered.cost_usd or Decimal(0)) > self.cost_budget:
            return "budget_exceeded"
        return None

    def started(self, pid: int) -> None:
        self.pid = pid

    def of_type(self, kind: str) -> list[ParsedEvent]:
        return [event for event in self.events if event.type == kind]

    @property
    def final(self) -> Usage | None:
        """The last ``final`` a runner reported (the CLI's own totals), as reported."""
        finals = [event.final for event in self.events if event.final is not None]
        return finals[-1] if finals else None


def make_ctx(
    cwd: Path, *, path_dirs: list[Path] | None = None, env: dict[str, str] | None = None, **kw: Any
) -> RunContext:
    dirs = [str(d) for d in (path_dirs if path_dirs is not None else [FAKES_BIN])]
    base_env = {
        "PATH": os.pathsep.join([*dirs, os.environ.get("PATH", os.defpath)]),
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        "MESA_RUN_ID": "7",
        "MESA_API_URL": "http://127.0.0.1:9/api/v1",
    }
    kw.setdefault("run_id", 7)
    kw.setdefault("agent_slug", "builder")
    kw.setdefault("model", "")
    kw.setdefault("prompt", "Write the file fake-output.txt.")
    kw.setdefault("system_prompt", "You are the backend engineer.")
    kw.setdefault("timeout_s", 30)
    kw.setdefault("max_turns", 10)
    return RunContext(cwd=cwd, env={**base_env, **(env or {})}, **kw)


def parse_all(parser: LineParser, lines: list[str]) -> list[ParsedEvent]:
    events: list[ParsedEvent] = []
    for line in lines:
        events.extend(parser.parse_line(line))
    return events


def metered(events: list[ParsedEvent], model: str = "") -> Usage:
    """The run's totals the sink would keep for ``events`` (priced with ``model`` as the run's model)."""
    sink = RecordingSink(model=model)
    for event in events:
        sink.emit(event)
    return sink.usage


def total_usage(events: list[ParsedEvent]) -> Usage:
    total = Usage()
    for event in events:
        if event.usage is not None:
            total = total + event.usage
    return total

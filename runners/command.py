"""``command``: runs any executable. Mesa passes the prompt on stdin.

Configuration: the agent's ``model`` field holds the command line (shell-style, split with
``shlex``; no shell is involved, so write ``sh -c '...'`` for pipes), e.g.
``/opt/bin/my-agent --fast``. The process runs in the run's worktree with the usual
``MESA_*`` variables; stdin is the role (system prompt), a blank line, then the task prompt.

Output: each stdout line is a ``text`` event, unless it is a JSON object with a string
``type``: then it is that event, with optional ``usage`` (a delta) and ``final`` (run
totals), each ``{"tokens_in", "tokens_out", "cache_read", "cache_write", "cost_usd"}``,
and ``is_error``. So a script can meter itself like a real CLI.
"""

from __future__ import annotations

import json
import shlex
from decimal import Decimal, InvalidOperation
from typing import Any

from runners.base import ParsedEvent, RunContext, Usage
from runners.executor import SubprocessRunner


def _usage(value: Any) -> Usage | None:
    if not isinstance(value, dict):
        return None

    def num(key: str) -> int:
        try:
            return max(0, int(value.get(key) or 0))
        except (TypeError, ValueError):
            return 0

    cost: Decimal | None = None
    if value.get("cost_usd") is not None:
        try:
            cost = Decimal(str(value["cost_usd"]))
        except (InvalidOperation, ValueError):
            cost = None
    return Usage(num("tokens_in"), num("tokens_out"), num("cache_read"), num("cache_write"), cost)


def command_line(ctx: RunContext) -> list[str]:
    text = ctx.model.strip()
    try:
        return shlex.split(text)
    except ValueError:
        return [text]


class CommandRunner(SubprocessRunner):
    name = "command"
    binary = None  # whatever the agent configures; `doctor` cannot know it in advance
    prompt_via = "stdin"

    def command(self, ctx: RunContext) -> list[str]:
        return command_line(ctx)

    def prompt_text(self, ctx: RunContext) -> str:
        return f"{ctx.system_prompt}\n\n{ctx.prompt}" if ctx.system_prompt else ctx.prompt

    def parser(self, ctx: RunContext) -> CommandParser:
        return CommandParser()


class CommandParser:
    """Text lines, or JSON objects that name their event ``type``. Keeps no state."""

    def parse_line(self, line: str) -> list[ParsedEvent]:
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                obj = json.loads(stripped)
            except ValueError:
                obj = None
            if isinstance(obj, dict) and isinstance(obj.get("type"), str) and obj["type"]:
                data = {k: v for k, v in obj.items() if k not in ("type", "usage", "final", "is_error")}
                return [
                    ParsedEvent(
                        obj["type"][:30],
                        data,
                        usage=_usage(obj.get("usage")),
                        final=_usage(obj.get("final")),
                        is_error=bool(obj.get("is_error")),
                    )
                ]
        return [ParsedEvent("text", {"text": line})]

"""Small helpers shared by the CLI runners: JSON lines, raw events, argv prefixes, the combined prompt.

``RunContext.extra`` keys understood by every CLI runner:

* ``binary``: the executable to start instead of the runner's default name (a path or a name
  looked up on ``ctx.env["PATH"]``).
* ``command_prefix``: an argv list put in front of the command, for wrappers such as
  ``nice -n 10``, ``firejail`` or ``unshare -n ...`` (the contract tests use it to keep the real
  CLIs off the network).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from runners.base import ParsedEvent, RunContext, Usage

MAX_TEXT = 20_000  # characters of one tool output / message kept in an event


def json_object(line: str) -> dict[str, Any] | None:
    """The JSON object on ``line``, or None when the line is not one."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def raw(line: str, **extra: Any) -> ParsedEvent:
    """An unparseable or unknown line, kept verbatim (capped)."""
    return ParsedEvent("raw", {"line": cap(line, 4000), **extra})


def cap(text: Any, limit: int = MAX_TEXT) -> str:
    value = text if isinstance(text, str) else json.dumps(text, default=str)
    if len(value) <= limit:
        return value
    return value[:limit] + f"\n[... {len(value) - limit} characters cut ...]"


def as_int(value: Any) -> int:
    """A non-negative int from a JSON number (anything else counts as 0)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and value == value:  # not NaN
        return max(int(value), 0)
    return 0


def as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        result = Decimal(str(value))
    except ArithmeticError:
        return None
    return result if result.is_finite() and result >= 0 else None


def has_tokens(usage: Usage) -> bool:
    return usage.tokens_total > 0


def binary(ctx: RunContext, default: str) -> str:
    configured = ctx.extra.get("binary")
    return str(configured) if configured else default


def with_prefix(ctx: RunContext, argv: list[str]) -> list[str]:
    prefix = ctx.extra.get("command_prefix") or []
    return [str(part) for part in prefix] + argv


def combined_prompt(ctx: RunContext) -> str:
    """The task prompt with the role text in front, for CLIs without a system-prompt flag.

    When the prompt already carries the role text (the prompt builder may include it), it is
    not repeated.
    """
    role = (ctx.system_prompt or "").strip()
    if not role or role in ctx.prompt:
        return ctx.prompt
    return f"# Your role\n\n{role}\n\n# Your task\n\n{ctx.prompt}"


def sub(obj: Any, key: str) -> dict[str, Any]:
    """``obj[key]`` when both are JSON objects, else an empty dict."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}


def option(ctx: RunContext, key: str, env_name: str, default: str = "") -> str:
    """A runner setting: ``ctx.extra[key]``, else the agent's environment variable ``env_name``."""
    value = ctx.extra.get(key) or ctx.env.get(env_name) or default
    return str(value)


MCP_SERVER = "mesa"  # the name the CLIs list Mesa's MCP server under (claude's tools: mcp__mesa__<tool>)


def mcp_url(ctx: RunContext) -> str:
    """Mesa's MCP endpoint for this run (``$MESA_MCP_URL``), or "" when the run has no key to call it with.

    The key itself never goes into a CLI's argv or a config file: every configuration below names
    the ``MESA_API_KEY`` variable, which the CLI expands from its own environment.
    """
    if not ctx.env.get("MESA_API_KEY"):
        return ""
    return ctx.env.get("MESA_MCP_URL", "")

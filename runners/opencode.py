"""OpenCode: ``opencode run --format json <prompt>``.

JSONL events, as written by ``packages/opencode/src/cli/cmd/run.ts`` (``emit(type, data)`` adds
``timestamp`` and ``sessionID``): ``step_start{part}``, ``text{part:{text}}`` (a finished text
part), ``reasoning{part:{text}}``, ``tool_use{part:{callID, tool, state:{status:
completed|error, input, output, error, metadata}}}`` (one event per FINISHED tool call),
``step_finish{part:{reason, cost, tokens:{input, output, reasoning, cache:{read, write}}}}``,
``error{error:{name, data:{message}}}`` and, in newer versions, ``done{reason}``.

Every ``step_finish`` (one per model request) carries that step's tokens and its cost in USD,
which drive the mid-run meter; ``tokens.input`` excludes cache reads and writes, ``reasoning``
is reported beside ``output`` and counted as output. opencode prices from models.dev and
reports 0 for a model it has no price for: such a step is reported without a cost, so the sink
prices it from Mesa's own table rather than recording it as free. A step whose reason is not
``tool-calls`` ends the run with a ``result`` event; the run's totals are the sink's sum of
the steps. ``--model`` takes ``provider/model``. The prompt (role text in front) goes after
``--``, or on stdin when it is too long for argv. Tested against opencode-ai 1.18.33.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, ClassVar

from runners.base import ParsedEvent, RunContext, Usage, tool_result, tool_use
from runners.cli_common import (
    MCP_SERVER,
    as_decimal,
    as_int,
    binary,
    cap,
    combined_prompt,
    json_object,
    mcp_url,
    raw,
    sub,
    with_prefix,
)
from runners.executor import SubprocessRunner


def opencode_usage(part: dict[str, Any]) -> Usage:
    tokens = sub(part, "tokens")
    cache = sub(tokens, "cache")
    return Usage(
        tokens_in=as_int(tokens.get("input")),
        tokens_out=as_int(tokens.get("output")) + as_int(tokens.get("reasoning")),
        cache_read=as_int(cache.get("read")),
        cache_write=as_int(cache.get("write")),
        cost_usd=as_decimal(part.get("cost")),
    )


class OpenCodeRunner(SubprocessRunner):
    name: ClassVar[str] = "opencode"
    binary: ClassVar[str | None] = "opencode"
    prompt_via = "stdin_when_long"  # without a message argument opencode reads it from piped stdin
    mcp = True

    def command(self, ctx: RunContext) -> list[str]:
        # --auto: approve what the config leaves at "ask" (unattended, like the other runners)
        argv = [binary(ctx, "opencode"), "run", "--format", "json", "--auto"]
        if ctx.model:
            argv += ["--model", ctx.model]
        return with_prefix(ctx, argv + self.prompt_args(ctx))

    def prompt_text(self, ctx: RunContext) -> str:
        return combined_prompt(ctx)

    def env(self, ctx: RunContext) -> dict[str, str]:
        env = {"OPENCODE_DISABLE_AUTOUPDATE": "1"}  # an agent run never updates the CLI under it
        url = mcp_url(ctx)
        if url:
            # Merged into the config the agent may already pass inline; {env:...} is opencode's own
            # substitution, so the key stays in the environment only.
            config = json_object(ctx.env.get("OPENCODE_CONFIG_CONTENT", "")) or {}
            servers = sub(config, "mcp")
            server = {"type": "remote", "url": url, "headers": {"Authorization": "Bearer {env:MESA_API_KEY}"}}
            config["mcp"] = {**servers, MCP_SERVER: server}
            env["OPENCODE_CONFIG_CONTENT"] = json.dumps(config)
        return env

    def parser(self, ctx: RunContext) -> OpenCodeParser:
        return OpenCodeParser()


class OpenCodeParser:
    """Reads one run's ``--format json`` stream; counts its steps."""

    def __init__(self) -> None:
        self.steps = 0

    def parse_line(self, line: str) -> list[ParsedEvent]:
        obj = json_object(line)
        if obj is None:
            return [raw(line)]
        kind = obj.get("type")
        part = sub(obj, "part")
        if kind == "step_start":
            return [ParsedEvent("system", {"subtype": "step_start", "session_id": obj.get("sessionID", "")})]
        if kind == "text":
            return [ParsedEvent("text", {"text": cap(part.get("text", ""))})]
        if kind == "reasoning":
            return [ParsedEvent("text", {"text": cap(part.get("text", "")), "thinking": True})]
        if kind == "tool_use":
            return self._tool(part)
        if kind == "step_finish":
            return self._step_finish(part)
        if kind == "error":
            return [ParsedEvent("error", {"message": cap(_error_message(obj.get("error")))}, is_error=True)]
        if kind == "done":
            return [ParsedEvent("system", {"subtype": "done", "reason": obj.get("reason", "")})]
        return [raw(line, kind=str(kind))]

    def _tool(self, part: dict[str, Any]) -> list[ParsedEvent]:
        state = sub(part, "state")
        call_id = part.get("callID", "")
        failed = state.get("status") == "error"
        output = state.get("error", "") if failed else state.get("output", "")
        return [
            tool_use(call_id=call_id, name=part.get("tool", ""), args=state.get("input", {})),
            tool_result(call_id=call_id, content=cap(output or ""), is_error=failed),
        ]

    def _step_finish(self, part: dict[str, Any]) -> list[ParsedEvent]:
        delta = opencode_usage(part)
        if not delta.cost_usd and delta.tokens_total:
            delta = replace(delta, cost_usd=None)  # opencode had no price (0): the sink prices the tokens
        self.steps += 1
        reason = str(part.get("reason") or "")
        events = [
            ParsedEvent(
                "system",
                {
                    "subtype": "step_finish",
                    "reason": reason,
                    "tokens": part.get("tokens", {}),
                    "cost": part.get("cost"),
                },
                usage=delta if delta.tokens_total or delta.cost_usd else None,
            )
        ]
        if reason != "tool-calls":
            events.append(
                ParsedEvent(
                    "result",
                    {"subtype": reason, "is_error": reason == "error", "num_turns": self.steps},
                    is_error=reason == "error",
                )
            )
        return events


def _error_message(error: Any) -> str:
    if isinstance(error, dict):
        data = error.get("data")
        if isinstance(data, dict) and data.get("message"):
            return str(data["message"])
        return str(error.get("message") or error.get("name") or error)
    return str(error or "error")

"""OpenCode: ``opencode run --format json <prompt>``.

JSONL events, as written by ``packages/opencode/src/cli/cmd/run.ts`` (``emit(type, data)`` adds
``timestamp`` and ``sessionID``): ``step_start{part}``, ``text{part:{text}}`` (a finished text
part), ``reasoning{part:{text}}``, ``tool_use{part:{callID, tool, state:{status:
completed|error, input, output, error, metadata}}}`` (one event per FINISHED tool call),
``step_finish{part:{reason, cost, tokens:{input, output, reasoning, cache:{read, write}}}}``,
``error{error:{name, data:{message}}}`` and, in newer versions, ``done{reason}``.

Every ``step_finish`` (one per model request) carries that step's tokens and its cost in USD,
which drive the mid-run meter; ``tokens.input`` excludes cache reads and writes, ``reasoning``
is reported beside ``output`` and counted as output. A step whose reason is not
``tool-calls`` ends the run: a ``result`` event then carries the summed totals.
``--model`` takes ``provider/model``. Tested against opencode-ai 1.18.33.
"""

from __future__ import annotations

from typing import Any, ClassVar

from runners import pricing
from runners.base import ParsedEvent, RunContext, SubprocessRunner, Usage
from runners.cli_common import (
    as_decimal,
    as_int,
    binary,
    cap,
    combined_prompt,
    json_object,
    prompt_via_stdin,
    raw,
    sub,
    with_prefix,
)


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

    def __init__(self) -> None:
        self._model = ""
        self._totals = Usage()
        self._steps = 0

    def command(self, ctx: RunContext) -> list[str]:
        self._model = ctx.model
        self._totals = Usage()
        self._steps = 0
        # --auto: approve what the config leaves at "ask" (unattended, like the other runners)
        argv = [binary(ctx, "opencode"), "run", "--format", "json", "--auto"]
        if ctx.model:
            argv += ["--model", ctx.model]
        prompt = combined_prompt(ctx)
        if not prompt_via_stdin(prompt):
            argv += ["--", prompt]  # else opencode takes the message from piped stdin
        return with_prefix(ctx, argv)

    def stdin(self, ctx: RunContext) -> bytes | None:
        prompt = combined_prompt(ctx)
        return prompt.encode("utf-8") if prompt_via_stdin(prompt) else None

    def env(self, ctx: RunContext) -> dict[str, str]:
        return {"OPENCODE_DISABLE_AUTOUPDATE": "1"}  # an agent run never updates the CLI under it

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
            ParsedEvent("tool_use", {"id": call_id, "name": part.get("tool", ""), "input": state.get("input", {})}),
            ParsedEvent(
                "tool_result",
                {"tool_use_id": call_id, "content": cap(output or ""), "is_error": failed},
                is_error=failed,
            ),
        ]

    def _step_finish(self, part: dict[str, Any]) -> list[ParsedEvent]:
        delta = opencode_usage(part)
        # opencode prices from models.dev; a model it has no price for reports 0, which Mesa would
        # record as free: price those tokens from Mesa's own table instead.
        if not delta.cost_usd and delta.tokens_total and pricing.is_priced(self._model):
            delta.cost_usd = pricing.price(self._model, delta)
        self._totals = self._totals + delta
        self._steps += 1
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
            totals = self._totals
            final = Usage(totals.tokens_in, totals.tokens_out, totals.cache_read, totals.cache_write, totals.cost_usd)
            events.append(
                ParsedEvent(
                    "result",
                    {"subtype": reason, "is_error": reason == "error", "num_turns": self._steps},
                    final=final,
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

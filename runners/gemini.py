"""Google Gemini CLI: ``gemini -p <prompt> --output-format stream-json``.

JSONL events (gemini-cli 0.61.0, ``docs/cli/headless.md`` and observed):
``init{session_id, model}``, ``message{role, content, delta}`` (assistant text arrives as
deltas), ``tool_use{tool_name, tool_id, parameters}``, ``tool_result{tool_id, status, output,
error}``, ``error{severity, message}``, ``result{status, error?, stats{total_tokens,
input_tokens, output_tokens, cached, input, duration_ms, tool_calls, models{<model>: {...}}}}``.

Tokens arrive only with ``result``: ``input_tokens`` is the whole prompt (cached included),
``input`` the uncached part, ``cached`` the cache reads, ``output_tokens`` the candidates;
thinking tokens are only in ``total_tokens`` and are counted as output (they are billed so).
No cost field: each model's share is priced with ``runners/prices.toml``. The mid-run meter
therefore only sees the totals at the end (the timeout still bounds the run).

Exit codes: 0 ok, 1 error, 41 no auth, 42 bad input, 53 turn limit, 55 untrusted workspace.
The runner trusts the worktree (``GEMINI_CLI_TRUST_WORKSPACE``) and approves tools (``--yolo``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from runners import pricing
from runners.base import ParsedEvent, RunContext, SubprocessRunner, Usage
from runners.cli_common import (
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

EXIT_CODES = {41: "authentication not configured", 42: "bad input", 53: "turn limit reached", 55: "untrusted workspace"}


def gemini_usage(stats: Any) -> Usage:
    stats = stats if isinstance(stats, dict) else {}
    prompt = as_int(stats.get("input_tokens"))
    cached = min(as_int(stats.get("cached")), prompt)
    uncached = as_int(stats["input"]) if "input" in stats else prompt - cached
    output = as_int(stats.get("output_tokens"))
    thoughts = max(as_int(stats.get("total_tokens")) - prompt - output, 0)
    return Usage(tokens_in=uncached, tokens_out=output + thoughts, cache_read=cached)


class GeminiRunner(SubprocessRunner):
    name: ClassVar[str] = "gemini"
    binary: ClassVar[str | None] = "gemini"

    def __init__(self) -> None:
        self._model = ""

    def command(self, ctx: RunContext) -> list[str]:
        self._model = ctx.model
        argv = [binary(ctx, "gemini"), "--output-format", "stream-json", "--yolo"]
        if ctx.model:
            # An explicit model also skips the router's extra classifier request.
            argv += ["-m", ctx.model]
        prompt = combined_prompt(ctx)
        # gemini reads piped stdin as the context of the -p question
        argv += ["-p", "Carry out the task given on standard input." if prompt_via_stdin(prompt) else prompt]
        return with_prefix(ctx, argv)

    def stdin(self, ctx: RunContext) -> bytes | None:
        prompt = combined_prompt(ctx)
        return prompt.encode("utf-8") if prompt_via_stdin(prompt) else None

    def env(self, ctx: RunContext) -> dict[str, str]:
        return {"GEMINI_CLI_TRUST_WORKSPACE": "true"}

    def parse_line(self, line: str) -> list[ParsedEvent]:
        obj = json_object(line)
        if obj is None:
            return [raw(line)]
        kind = obj.get("type")
        if kind == "init":
            if isinstance(obj.get("model"), str) and obj["model"]:
                self._model = obj["model"]
            return [
                ParsedEvent(
                    "system", {"subtype": "init", "session_id": obj.get("session_id", ""), "model": self._model}
                )
            ]
        if kind == "message":
            if obj.get("role") != "assistant":
                return []  # the prompt echoed back
            return [ParsedEvent("text", {"text": cap(obj.get("content", "")), "delta": bool(obj.get("delta"))})]
        if kind == "tool_use":
            return [
                ParsedEvent(
                    "tool_use",
                    {
                        "id": obj.get("tool_id", ""),
                        "name": obj.get("tool_name", ""),
                        "input": obj.get("parameters", {}),
                    },
                )
            ]
        if kind == "tool_result":
            failed = obj.get("status") != "success"
            error = obj.get("error")
            content = obj.get("output", "")
            if failed and isinstance(error, dict):
                content = error.get("message", content)
            return [
                ParsedEvent(
                    "tool_result",
                    {"tool_use_id": obj.get("tool_id", ""), "content": cap(content or ""), "is_error": failed},
                    is_error=failed,
                )
            ]
        if kind == "error":
            fatal = obj.get("severity", "error") == "error"
            return [
                ParsedEvent(
                    "error",
                    {"message": cap(str(obj.get("message", ""))), "severity": obj.get("severity", "")},
                    is_error=fatal,
                )
            ]
        if kind == "result":
            return [self._result(obj)]
        return [raw(line, kind=str(kind))]

    def _result(self, obj: dict[str, Any]) -> ParsedEvent:
        stats = sub(obj, "stats")
        final = gemini_usage(stats)
        models = sub(stats, "models")
        cost = Decimal(0)
        priced = True
        if models:
            for model, model_stats in models.items():
                priced = priced and pricing.is_priced(str(model))
                cost += pricing.price(str(model), gemini_usage(model_stats))
        else:
            priced = pricing.is_priced(self._model)
            cost = pricing.price(self._model, final)
        final.cost_usd = cost if priced else None
        status = str(obj.get("status") or "")
        is_error = status not in ("", "success")
        data: dict[str, Any] = {
            "subtype": status,
            "is_error": is_error,
            "stats": stats,
            "model": self._model,
            "priced": priced,
            "num_turns": None,
        }
        error = obj.get("error")
        if error:
            data["error"] = cap(error.get("message", error) if isinstance(error, dict) else error)
        # No usage was reported before this line, so the totals are also this line's delta.
        delta = Usage(final.tokens_in, final.tokens_out, final.cache_read, final.cache_write, final.cost_usd)
        return ParsedEvent("result", data, usage=delta if delta.tokens_total else None, final=final, is_error=is_error)

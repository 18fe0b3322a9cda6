"""Google Gemini CLI: ``gemini -p <prompt> --output-format stream-json``.

JSONL events (gemini-cli 0.61.0, ``docs/cli/headless.md`` and observed):
``init{session_id, model}``, ``message{role, content, delta}`` (assistant text arrives as
deltas), ``tool_use{tool_name, tool_id, parameters}``, ``tool_result{tool_id, status, output,
error}``, ``error{severity, message}``, ``result{status, error?, stats{total_tokens,
input_tokens, output_tokens, cached, input, duration_ms, tool_calls, models{<model>: {...}}}}``.

Tokens arrive only with ``result``: ``input_tokens`` is the whole prompt (cached included),
``input`` the uncached part, ``cached`` the cache reads, ``output_tokens`` the candidates;
thinking tokens are only in ``total_tokens`` and are counted as output (they are billed so).
No cost field: the sink prices each model's share with ``runners/prices.toml`` (a run that used
several models, e.g. the router's classifier and the chosen model, gets one usage event per
model before its result). The mid-run meter therefore only sees the totals at the end (the
timeout still bounds the run).

Exit codes: 0 ok, 1 error, 41 no auth, 42 bad input, 53 turn limit, 55 untrusted workspace.
The runner trusts the worktree (``GEMINI_CLI_TRUST_WORKSPACE``) and approves tools (``--yolo``).
The prompt (role text in front) follows ``-p``; when it is too long for argv it goes on stdin,
which gemini reads as the context of a short ``-p`` question.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from runners.base import ParsedEvent, RunContext, Usage, tool_result, tool_use
from runners.cli_common import as_int, binary, cap, combined_prompt, json_object, raw, sub, with_prefix
from runners.executor import SubprocessRunner

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
    prompt_via = "stdin_when_long"
    prompt_flag = ("-p",)
    # gemini reads piped stdin as the context of the -p question
    stdin_args = ("-p", "Carry out the task given on standard input.")

    def command(self, ctx: RunContext) -> list[str]:
        argv = [binary(ctx, "gemini"), "--output-format", "stream-json", "--yolo"]
        if ctx.model:
            # An explicit model also skips the router's extra classifier request.
            argv += ["-m", ctx.model]
        return with_prefix(ctx, argv + self.prompt_args(ctx))

    def prompt_text(self, ctx: RunContext) -> str:
        return combined_prompt(ctx)

    def env(self, ctx: RunContext) -> dict[str, str]:
        return {"GEMINI_CLI_TRUST_WORKSPACE": "true"}

    def parser(self, ctx: RunContext) -> GeminiParser:
        return GeminiParser(model=ctx.model)


class GeminiParser:
    """Reads one run's ``stream-json``; remembers the model the init line names."""

    def __init__(self, *, model: str = "") -> None:
        self.model = model

    def parse_line(self, line: str) -> list[ParsedEvent]:
        obj = json_object(line)
        if obj is None:
            return [raw(line)]
        kind = obj.get("type")
        if kind == "init":
            if isinstance(obj.get("model"), str) and obj["model"]:
                self.model = obj["model"]
            return [
                ParsedEvent("system", {"subtype": "init", "session_id": obj.get("session_id", ""), "model": self.model})
            ]
        if kind == "message":
            if obj.get("role") != "assistant":
                return []  # the prompt echoed back
            return [ParsedEvent("text", {"text": cap(obj.get("content", "")), "delta": bool(obj.get("delta"))})]
        if kind == "tool_use":
            return [
                tool_use(call_id=obj.get("tool_id", ""), name=obj.get("tool_name", ""), args=obj.get("parameters", {}))
            ]
        if kind == "tool_result":
            failed = obj.get("status") != "success"
            error = obj.get("error")
            content = obj.get("output", "")
            if failed and isinstance(error, dict):
                content = error.get("message", content)
            return [tool_result(call_id=obj.get("tool_id", ""), content=cap(content or ""), is_error=failed)]
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
            return self._result(obj)
        return [raw(line, kind=str(kind))]

    def _result(self, obj: dict[str, Any]) -> list[ParsedEvent]:
        stats = sub(obj, "stats")
        final = replace(gemini_usage(stats), model=self.model)  # the CLI's totals; the sink prices them
        shares = [replace(gemini_usage(share), model=str(name)) for name, share in sub(stats, "models").items()]
        # No usage was reported before this line, so the totals are also this line's delta: one
        # delta per model, so that the sink prices each share with its own model.
        events: list[ParsedEvent] = []
        delta: Usage | None = final
        if len(shares) == 1:
            delta = replace(final, model=shares[0].model)
        elif len(shares) > 1:
            delta = None
            events = [
                ParsedEvent("system", {"subtype": "model_usage", "model": share.model}, usage=share)
                for share in shares
                if share.tokens_total
            ]
        status = str(obj.get("status") or "")
        is_error = status not in ("", "success")
        data: dict[str, Any] = {
            "subtype": status,
            "is_error": is_error,
            "stats": stats,
            "model": self.model,
            "num_turns": None,
        }
        error = obj.get("error")
        if error:
            data["error"] = cap(error.get("message", error) if isinstance(error, dict) else error)
        usage = delta if delta is not None and delta.tokens_total else None
        events.append(ParsedEvent("result", data, usage=usage, final=final, is_error=is_error))
        return events

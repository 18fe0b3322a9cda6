"""GitHub Copilot CLI: ``copilot -p <prompt> --allow-all-tools --output-format json``.

In prompt mode with ``--output-format json`` Copilot writes JSONL session events, each
``{"type": ..., "data": {...}}``: ``assistant.message{messageId, content, toolRequests}``,
``assistant.message_delta{messageId, deltaContent}``, ``assistant.reasoning{content}``,
``assistant.turn_start`` / ``assistant.turn_end``, ``assistant.usage{model, inputTokens,
outputTokens, cacheReadTokens, cacheWriteTokens, cost}``, ``tool.execution_start{toolCallId,
toolName, arguments}``, ``tool.execution_complete{toolCallId, success, result{content,
detailedContent}, error{message}}``, ``session.error{message}`` and a final
``result{exitCode, usage{premiumRequests, totalApiDurationMs, sessionDurationMs}}``.
This shape comes from public parsers of the CLI, not from a run on this machine (the binary is
not installed here): the parser is tolerant, and a line that is not JSON (an older CLI without
``--output-format``) is kept as a ``text`` event rather than dropped.

Copilot bills premium requests, not tokens; tokens are recorded when ``assistant.usage``
reports them, and the sink prices them from ``runners/prices.toml``.

The prompt (role text in front) follows ``-p``; one too long for argv goes on stdin with no
``-p`` at all: in a non-interactive session copilot reads its prompt from piped stdin
(github/copilot-cli#1046, #3398).
"""

from __future__ import annotations

from typing import Any, ClassVar

from runners.base import ParsedEvent, RunContext, Usage, tool_result, tool_use
from runners.cli_common import as_int, binary, cap, combined_prompt, json_object, raw, sub, with_prefix
from runners.executor import SubprocessRunner


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            item if isinstance(item, str) else str(item.get("text", ""))
            for item in content
            if isinstance(item, str | dict)
        )
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return ""


class CopilotRunner(SubprocessRunner):
    name: ClassVar[str] = "copilot"
    binary: ClassVar[str | None] = "copilot"
    prompt_via = "stdin_when_long"
    prompt_flag = ("-p",)

    def command(self, ctx: RunContext) -> list[str]:
        argv = [binary(ctx, "copilot"), "--output-format", "json", "--allow-all-tools"]
        if ctx.model:
            argv += ["--model", ctx.model]
        return with_prefix(ctx, argv + self.prompt_args(ctx))

    def prompt_text(self, ctx: RunContext) -> str:
        return combined_prompt(ctx)

    def parser(self, ctx: RunContext) -> CopilotParser:
        return CopilotParser(model=ctx.model)


class CopilotParser:
    """Reads one run's JSONL session events; counts its turns."""

    def __init__(self, *, model: str = "") -> None:
        self.model = model
        self.turns = 0

    def parse_line(self, line: str) -> list[ParsedEvent]:
        obj = json_object(line)
        if obj is None:
            return [ParsedEvent("text", {"text": cap(line)})] if line.strip() else []
        kind = str(obj.get("type") or "")
        data = sub(obj, "data")
        if kind == "assistant.message":
            events = []
            text = _content_text(data.get("content"))
            if text:
                events.append(ParsedEvent("text", {"id": data.get("messageId", ""), "text": cap(text)}))
            # toolRequests are announced again by tool.execution_start, which is kept instead.
            return events
        if kind in ("assistant.message_delta", "assistant.reasoning_delta", "tool.execution_partial_result"):
            return []  # the complete message / result follows; storing both would double the text
        if kind == "assistant.reasoning":
            return [ParsedEvent("text", {"text": cap(_content_text(data.get("content"))), "thinking": True})]
        if kind == "assistant.turn_end":
            self.turns += 1
            return []
        if kind == "assistant.usage":
            return [self._usage(data)]
        if kind == "tool.execution_start":
            return [
                tool_use(
                    call_id=data.get("toolCallId", ""), name=data.get("toolName", ""), args=data.get("arguments", {})
                )
            ]
        if kind == "tool.execution_complete":
            failed = not bool(data.get("success"))
            result = sub(data, "result")
            error = sub(data, "error")
            content = (
                error.get("message") if failed and error else (result.get("detailedContent") or result.get("content"))
            )
            return [
                tool_result(call_id=data.get("toolCallId", ""), content=cap(_content_text(content)), is_error=failed)
            ]
        if kind in ("session.error", "error"):
            message = data.get("message") or obj.get("message") or kind
            return [ParsedEvent("error", {"message": cap(str(message))}, is_error=True)]
        if kind == "result":
            exit_code = obj.get("exitCode")
            is_error = isinstance(exit_code, int) and exit_code != 0
            # No token totals here (premium requests only): the sink's sum of assistant.usage is the run's.
            return [
                ParsedEvent(
                    "result",
                    {
                        "subtype": "result",
                        "exit_code": exit_code,
                        "usage": obj.get("usage", {}),
                        "num_turns": self.turns,
                        "is_error": is_error,
                    },
                    is_error=is_error,
                )
            ]
        if kind.startswith(("session.", "assistant.", "user.", "tool.")):
            return [ParsedEvent("system", {"subtype": kind})]
        return [raw(line, kind=kind)]

    def _usage(self, data: dict[str, Any]) -> ParsedEvent:
        model = str(data.get("model") or self.model)
        delta = Usage(
            tokens_in=as_int(data.get("inputTokens")),
            tokens_out=as_int(data.get("outputTokens")),
            cache_read=as_int(data.get("cacheReadTokens")),
            cache_write=as_int(data.get("cacheWriteTokens")),
            model=model,
        )
        return ParsedEvent(
            "system", {"subtype": "assistant.usage", "model": model, "cost": data.get("cost")}, usage=delta
        )

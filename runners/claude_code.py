"""Claude Code: ``claude -p --output-format stream-json --verbose``.

The stream (one JSON object per line, tested against claude-code 2.1.330):

* ``{"type":"system","subtype":"init","session_id","model","cwd","tools",...}``
* ``{"type":"assistant","message":{"id","model","content":[<one block>],"usage":{...}}}`` -
  one line per content block (``text``, ``tool_use``, ``thinking``); every line of one API
  message repeats the same ``message.id`` and ``usage``, and later lines may carry larger
  figures (the output count grows while the message streams). The mid-run meter therefore
  counts, per message id, only the increase over what was already counted.
* ``{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id","content","is_error"}]}}``
* ``{"type":"result","subtype","is_error","num_turns","result","total_cost_usd","usage":{...}}`` -
  the run's totals. The cost is the TOP-LEVEL ``total_cost_usd`` (the original Mesa read a
  field that does not exist there and showed $0).

Mesa's MCP server goes in with ``--mcp-config`` as inline JSON (no file): an HTTP server at
``$MESA_MCP_URL`` whose ``Authorization`` header is ``Bearer ${MESA_API_KEY}``, which claude expands
from its environment, so the key is neither in argv nor anywhere on disk.

With the agent's ``codex_mcp`` (and Codex credentials within the run's reach), a second server ``codex``
runs Mesa's Codex bridge (``runners/codex_bridge.py``) over stdio: Claude can hand Codex a task as a tool
call (``mcp__codex__codex``), which the bridge runs as ``codex exec``. A host run starts the bridge with
Mesa's Python; a container run the copy in the worker image (``/usr/local/bin/mesa-codex-mcp``).

Runs unattended: ``--dangerously-skip-permissions`` (which claude refuses as root unless
``IS_SANDBOX=1``, set through :meth:`ClaudeCodeRunner.env`), ``--disallowedTools`` from the agent.
The prompt goes after ``--`` on the command line, or on stdin when it is too long for argv
(``claude -p`` reads the prompt from stdin when none is given). A :class:`ClaudeParser` per run
keeps that run's state (the message ids already metered).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from runners.base import ParsedEvent, RunContext, Usage, tool_result, tool_use
from runners.cli_common import (
    MCP_SERVER,
    as_decimal,
    as_int,
    binary,
    cap,
    has_tokens,
    json_object,
    mcp_url,
    raw,
    with_prefix,
)
from runners.executor import SubprocessRunner

# Claude with Codex as an MCP tool (the agent's ``codex_mcp``): the server's name and its command line.
# The pinned codex (0.169.0) has no `mcp-server` subcommand: the bridge serves MCP and runs `codex exec`.
CODEX_MCP_SERVER = "codex"
CODEX_BRIDGE = Path(__file__).resolve().with_name("codex_bridge.py")
# A host run; -I keeps runners/ off sys.path (runners/selectors.py would shadow the standard library's).
CODEX_MCP_COMMAND = (sys.executable, "-I", str(CODEX_BRIDGE))
CODEX_MCP_IMAGE_COMMAND = ("/usr/local/bin/mesa-codex-mcp",)  # a container run: docker/worker.Dockerfile's copy
IMAGE_SANDBOXES = ("container", "worker")


def _usage(data: Any) -> Usage:
    data = data if isinstance(data, dict) else {}
    return Usage(
        tokens_in=as_int(data.get("input_tokens")),
        tokens_out=as_int(data.get("output_tokens")),
        cache_read=as_int(data.get("cache_read_input_tokens")),
        cache_write=as_int(data.get("cache_creation_input_tokens")),
    )


def _tool_result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            str(block.get("text", "")) if isinstance(block, dict) and block.get("type") == "text" else cap(block, 2000)
            for block in content
        ]
        return "\n".join(parts)
    return "" if content is None else cap(content)


class ClaudeCodeRunner(SubprocessRunner):
    name: ClassVar[str] = "claude_code"
    binary: ClassVar[str | None] = "claude"
    prompt_via = "stdin_when_long"
    mcp = True

    def command(self, ctx: RunContext) -> list[str]:
        argv = [binary(ctx, "claude"), "-p", "--output-format", "stream-json", "--verbose"]
        servers: dict[str, Any] = {}
        url = mcp_url(ctx)
        if url:
            # ${MESA_API_KEY} is expanded by claude, never written out.
            servers[MCP_SERVER] = {"type": "http", "url": url, "headers": {"Authorization": "Bearer ${MESA_API_KEY}"}}
        if ctx.extra.get("codex_mcp"):
            # Dual agent: Codex as a tool, over stdio (execution sets codex_mcp only when Codex has credentials).
            default = CODEX_MCP_IMAGE_COMMAND if ctx.extra.get("mesa_sandbox") in IMAGE_SANDBOXES else CODEX_MCP_COMMAND
            command = [str(part) for part in ctx.extra.get("codex_mcp_command") or default]
            servers[CODEX_MCP_SERVER] = {"type": "stdio", "command": command[0], "args": command[1:]}
        if servers:
            # `=`: --mcp-config is variadic.
            argv.append("--mcp-config=" + json.dumps({"mcpServers": servers}))
        if ctx.max_turns and ctx.max_turns > 0:
            argv += ["--max-turns", str(ctx.max_turns)]
        if ctx.model:
            argv += ["--model", ctx.model]
        if ctx.system_prompt.strip():
            argv += ["--append-system-prompt", ctx.system_prompt]
        argv.append("--dangerously-skip-permissions")
        tools = [tool.strip() for tool in ctx.disallowed_tools if tool.strip()]
        if tools:
            # The `=` form: --disallowedTools is variadic and would swallow the prompt otherwise.
            argv.append("--disallowedTools=" + ",".join(tools))
        return with_prefix(ctx, argv + self.prompt_args(ctx))

    def parser(self, ctx: RunContext) -> ClaudeParser:
        return ClaudeParser(model=ctx.model)

    def env(self, ctx: RunContext) -> dict[str, str]:
        # claude refuses --dangerously-skip-permissions as root unless told it is sandboxed; a run
        # is confined to its own worktree. No auto-update or telemetry traffic from agent runs.
        return {
            "IS_SANDBOX": "1",
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        }


class ClaudeParser:
    """Reads one run's stream-json; remembers, per API message id, the usage already metered."""

    def __init__(self, *, model: str = "") -> None:
        self.model = model  # the agent's model until the init line names the one in use
        self._seen: dict[str, Usage] = {}

    def parse_line(self, line: str) -> list[ParsedEvent]:
        obj = json_object(line)
        if obj is None:
            return [raw(line)]
        kind = obj.get("type")
        if kind == "system":
            return [self._system(obj)]
        if kind == "assistant":
            return self._assistant(obj)
        if kind == "user":
            return self._user(obj)
        if kind == "result":
            return [self._result(obj)]
        if kind == "stream_event":
            return []  # only with --include-partial-messages, which Mesa does not ask for
        return [raw(line, kind=str(kind))]

    def _system(self, obj: dict[str, Any]) -> ParsedEvent:
        if obj.get("subtype") == "init" and isinstance(obj.get("model"), str):
            self.model = obj["model"] or self.model
        keys = ("subtype", "session_id", "model", "cwd", "permissionMode", "claude_code_version", "apiKeySource")
        data = {key: obj[key] for key in keys if key in obj}
        if isinstance(obj.get("tools"), list):
            data["tools"] = [str(tool) for tool in obj["tools"]][:200]
        return ParsedEvent("system", data)

    def _meter(self, message: dict[str, Any]) -> Usage | None:
        """The usage this line adds: per message id, only the growth over what was counted."""
        reported = _usage(message.get("usage"))
        if not has_tokens(reported):
            return None
        msg_id = str(message.get("id") or "")
        seen = self._seen.get(msg_id, Usage())
        delta = Usage(
            tokens_in=max(reported.tokens_in - seen.tokens_in, 0),
            tokens_out=max(reported.tokens_out - seen.tokens_out, 0),
            cache_read=max(reported.cache_read - seen.cache_read, 0),
            cache_write=max(reported.cache_write - seen.cache_write, 0),
            model=str(message.get("model") or self.model),
        )
        if msg_id:
            self._seen[msg_id] = Usage(
                tokens_in=max(seen.tokens_in, reported.tokens_in),
                tokens_out=max(seen.tokens_out, reported.tokens_out),
                cache_read=max(seen.cache_read, reported.cache_read),
                cache_write=max(seen.cache_write, reported.cache_write),
            )
        return delta if has_tokens(delta) else None

    def _assistant(self, obj: dict[str, Any]) -> list[ParsedEvent]:
        message = obj.get("message")
        if not isinstance(message, dict):
            return [raw(cap(obj, 4000), kind="assistant")]
        events: list[ParsedEvent] = []
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            if not isinstance(block, dict):
                continue
            btype = block.get("type")
            if btype == "text":
                events.append(ParsedEvent("text", {"text": cap(block.get("text", ""))}))
            elif btype == "thinking":
                events.append(ParsedEvent("text", {"text": cap(block.get("thinking", "")), "thinking": True}))
            elif btype == "tool_use":
                events.append(
                    tool_use(call_id=block.get("id", ""), name=block.get("name", ""), args=block.get("input", {}))
                )
        if obj.get("error"):
            events.append(ParsedEvent("error", {"message": str(obj["error"])}, is_error=True))
        if not events:
            events.append(ParsedEvent("system", {"subtype": "assistant_message", "id": message.get("id", "")}))
        usage = self._meter(message)
        if usage is not None:
            events[0].usage = usage
        return events

    def _user(self, obj: dict[str, Any]) -> list[ParsedEvent]:
        message = obj.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        return [
            tool_result(
                call_id=block.get("tool_use_id", ""),
                content=cap(_tool_result_text(block.get("content"))),
                is_error=bool(block.get("is_error")),
            )
            for block in (content if isinstance(content, list) else [])
            if isinstance(block, dict) and block.get("type") == "tool_result"
        ]  # a plain user message (the prompt echoed back) is not worth storing twice

    def _result(self, obj: dict[str, Any]) -> ParsedEvent:
        # The CLI's own totals and cost (the top-level total_cost_usd): they win over the deltas.
        final = replace(_usage(obj.get("usage")), cost_usd=as_decimal(obj.get("total_cost_usd")), model=self.model)
        subtype = str(obj.get("subtype") or "")
        is_error = bool(obj.get("is_error")) or (bool(subtype) and subtype != "success")
        keys = ("subtype", "is_error", "num_turns", "result", "session_id", "duration_ms", "stop_reason")
        data: dict[str, Any] = {key: obj[key] for key in keys if key in obj}
        data["num_turns"] = as_int(obj.get("num_turns")) if "num_turns" in obj else None
        data["result"] = cap(obj.get("result", ""))
        data["total_cost_usd"] = str(final.cost_usd) if final.cost_usd is not None else None
        if obj.get("terminal_reason"):
            data["terminal_reason"] = obj["terminal_reason"]
        if obj.get("permission_denials"):
            data["permission_denials"] = obj["permission_denials"]
        return ParsedEvent("result", data, final=final, is_error=is_error)

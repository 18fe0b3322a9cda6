"""OpenAI Codex CLI: ``codex exec --json``.

JSONL events (codex-cli 0.169.0; schema of ``sdk/typescript/src/events.ts`` and ``items.ts``):
``thread.started{thread_id}``, ``turn.started``, ``item.started`` / ``item.updated`` /
``item.completed{item}``, ``turn.completed{usage}``, ``turn.failed{error:{message}}``,
``error{message}``. Item types: ``agent_message{text}``, ``reasoning{text}``,
``command_execution{command, aggregated_output, exit_code, status}``,
``file_change{changes:[{path, kind}], status}``, ``mcp_tool_call{server, tool, arguments,
result, error, status}``, ``web_search{query}``, ``todo_list{items}``, ``error{message}``.

Usage arrives only with ``turn.completed``: ``input_tokens`` (which INCLUDES the cached part),
``cached_input_tokens``, ``output_tokens`` (which includes ``reasoning_output_tokens``). Mesa
records uncached input as ``tokens_in`` and the cached part as ``cache_read`` (as for every other
runner), so ``tokens_in = input_tokens - cached_input_tokens``. There is no cost field: the cost
comes from ``runners/prices.toml``. Because codex reports no usage before the turn ends, the
mid-run meter can only act at turn boundaries (the timeout still bounds a turn). The sink's
running total is the run's total (codex states none of its own).

The prompt (role text in front) goes after ``--``, or, when too long for argv, ``-`` tells codex
to read it from stdin.

Settings, from ``RunContext.extra`` or else the agent's environment (in brackets):
``base_url`` [``MESA_CODEX_BASE_URL``], an OpenAI-compatible endpoint for which Mesa declares
a custom provider ``mesa``; ``wire_api`` [``MESA_CODEX_WIRE_API``], ``responses`` by default or
``chat``; ``env_key`` [``MESA_CODEX_ENV_KEY``], the variable holding the key (default
``OPENAI_API_KEY``); ``sandbox`` [``MESA_CODEX_SANDBOX``], ``workspace-write`` by default (with
network access, so the agent can reach the Mesa API), ``read-only``, or ``danger-full-access``
for a host that is sandboxed from outside.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from runners.base import ParsedEvent, RunContext, Usage, tool_result, tool_use
from runners.cli_common import (
    MCP_SERVER,
    as_int,
    binary,
    cap,
    combined_prompt,
    json_object,
    mcp_url,
    option,
    raw,
    sub,
    with_prefix,
)
from runners.executor import SubprocessRunner

SANDBOXES = ("read-only", "workspace-write", "danger-full-access")


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def codex_usage(data: Any) -> Usage:
    data = data if isinstance(data, dict) else {}
    total_in = as_int(data.get("input_tokens"))
    cached = min(as_int(data.get("cached_input_tokens")), total_in)
    return Usage(
        tokens_in=total_in - cached,
        tokens_out=as_int(data.get("output_tokens")),
        cache_read=cached,
        cache_write=as_int(data.get("cache_write_input_tokens")),
    )


class CodexRunner(SubprocessRunner):
    name: ClassVar[str] = "codex"
    binary: ClassVar[str | None] = "codex"
    prompt_via = "stdin_when_long"
    stdin_args = ("--", "-")  # `-`: codex reads the prompt from stdin
    mcp = True

    def command(self, ctx: RunContext) -> list[str]:
        argv = [binary(ctx, "codex"), "exec", "--json", "--skip-git-repo-check", "--color", "never"]
        # Without this codex lingers ~5 s after the turn to flush analytics.
        argv += ["-c", "analytics.enabled=false", "-c", 'approval_policy="never"']
        sandbox = option(ctx, "sandbox", "MESA_CODEX_SANDBOX", "workspace-write")
        if sandbox not in SANDBOXES:
            sandbox = "workspace-write"
        if sandbox == "danger-full-access":
            argv.append("--dangerously-bypass-approvals-and-sandbox")
        else:
            argv += ["--sandbox", sandbox]
            if sandbox == "workspace-write":
                argv += ["-c", "sandbox_workspace_write.network_access=true"]
        if ctx.model:
            argv += ["-m", ctx.model]
        base_url = option(ctx, "base_url", "MESA_CODEX_BASE_URL")
        if base_url:
            provider = (
                "{"
                f"name={_toml_str('mesa')},"
                f"base_url={_toml_str(base_url)},"
                f"env_key={_toml_str(option(ctx, 'env_key', 'MESA_CODEX_ENV_KEY', 'OPENAI_API_KEY'))},"
                f"wire_api={_toml_str(option(ctx, 'wire_api', 'MESA_CODEX_WIRE_API', 'responses'))}"
                "}"
            )
            argv += ["-c", "model_provider=mesa", "-c", f"model_providers.mesa={provider}"]
        url = mcp_url(ctx)
        if url:
            # Mesa's MCP server over streamable HTTP; codex reads the bearer from $MESA_API_KEY itself.
            argv += ["-c", f"mcp_servers.{MCP_SERVER}.url={_toml_str(url)}"]
            argv += ["-c", f"mcp_servers.{MCP_SERVER}.bearer_token_env_var={_toml_str('MESA_API_KEY')}"]
        argv += ["--cd", str(ctx.cwd), *self.prompt_args(ctx)]
        return with_prefix(ctx, argv)

    def prompt_text(self, ctx: RunContext) -> str:
        return combined_prompt(ctx)

    def parser(self, ctx: RunContext) -> CodexParser:
        return CodexParser(model=ctx.model)


class CodexParser:
    """Reads one run's ``codex exec --json`` stream; counts its turns."""

    def __init__(self, *, model: str = "") -> None:
        self.model = model
        self.turns = 0

    def parse_line(self, line: str) -> list[ParsedEvent]:
        obj = json_object(line)
        if obj is None:
            return [raw(line)]
        kind = obj.get("type")
        if kind == "thread.started":
            return [ParsedEvent("system", {"subtype": "thread.started", "thread_id": obj.get("thread_id", "")})]
        if kind == "turn.started":
            return [ParsedEvent("system", {"subtype": "turn.started"})]
        if kind in ("item.started", "item.updated", "item.completed"):
            item = obj.get("item")
            return self._item(str(kind), item) if isinstance(item, dict) else [raw(line, kind=str(kind))]
        if kind == "turn.completed":
            return [self._turn_completed(obj)]
        if kind == "turn.failed":
            error = obj.get("error")
            message = error.get("message", "") if isinstance(error, dict) else str(error or "")
            return [
                ParsedEvent(
                    "result", {"subtype": "turn.failed", "is_error": True, "error": cap(message)}, is_error=True
                )
            ]
        if kind == "error":
            # Transient stream errors ("Reconnecting... 2/5") are reported here too; the run only
            # fails when the turn fails or the process exits non-zero.
            return [ParsedEvent("error", {"message": cap(str(obj.get("message", "")))})]
        return [raw(line, kind=str(kind))]

    def _turn_completed(self, obj: dict[str, Any]) -> ParsedEvent:
        # The turn's tokens are a delta; the sink prices them and keeps the run's total.
        self.turns += 1
        data = {
            "subtype": "turn.completed",
            "is_error": False,
            "num_turns": self.turns,
            "usage": sub(obj, "usage"),
            "model": self.model,
        }
        return ParsedEvent("result", data, usage=codex_usage(obj.get("usage")))

    def _item(self, kind: str, item: dict[str, Any]) -> list[ParsedEvent]:
        itype = item.get("type")
        done = kind == "item.completed"
        item_id = item.get("id", "")
        if itype == "agent_message":
            return [ParsedEvent("text", {"id": item_id, "text": cap(item.get("text", ""))})] if done else []
        if itype == "reasoning":
            return (
                [ParsedEvent("text", {"id": item_id, "text": cap(item.get("text", "")), "thinking": True})]
                if done
                else []
            )
        if itype == "command_execution":
            if kind == "item.started":
                return [tool_use(call_id=item_id, name="shell", args={"command": item.get("command", "")})]
            if not done:
                return []
            exit_code = item.get("exit_code")
            failed = item.get("status") == "failed" or (isinstance(exit_code, int) and exit_code != 0)
            output = cap(item.get("aggregated_output", ""))
            return [tool_result(call_id=item_id, content=output, is_error=failed, exit_code=exit_code)]
        if itype == "file_change":
            if not done:
                return []
            changes = item.get("changes") if isinstance(item.get("changes"), list) else []
            failed = item.get("status") == "failed"
            return [
                tool_use(call_id=item_id, name="file_change", args={"changes": changes}),
                tool_result(call_id=item_id, content=str(item.get("status", "")), is_error=failed),
            ]
        if itype == "mcp_tool_call":
            name = f"{item.get('server', '')}.{item.get('tool', '')}"
            if kind == "item.started":
                return [tool_use(call_id=item_id, name=name, args=item.get("arguments", {}))]
            if not done:
                return []
            error = item.get("error")
            failed = bool(error) or item.get("status") == "failed"
            content = error.get("message", "") if isinstance(error, dict) else item.get("result", "")
            return [tool_result(call_id=item_id, content=cap(content), is_error=failed)]
        if itype == "web_search":
            return [tool_use(call_id=item_id, name="web_search", args={"query": item.get("query", "")})] if done else []
        if itype == "todo_list":
            return [ParsedEvent("system", {"subtype": "todo_list", "items": item.get("items", [])})] if done else []
        if itype == "error":
            # Also used for warnings such as "Model metadata for `x` not found"; not fatal by itself.
            return [ParsedEvent("error", {"message": cap(str(item.get("message", "")))})]
        return [ParsedEvent("raw", {"line": cap(item, 4000), "kind": f"{kind}:{itype}"})] if done else []

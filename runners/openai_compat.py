"""``openai``: Mesa's own tool-calling loop against any OpenAI-compatible chat-completions API.

Works with Ollama, vLLM, LM Studio, llama.cpp's server and hosted OpenAI-compatible APIs: this
is how local models join the team. Configuration (``RunContext.extra`` first, then the agent's
environment in ``ctx.env``): ``base_url`` / ``OPENAI_BASE_URL`` (default Ollama's
``http://127.0.0.1:11434/v1``), ``api_key`` / ``OPENAI_API_KEY`` (optional for local servers),
the model from ``ctx.model``; ``request_timeout_s`` caps one HTTP request (default 300).

The model gets five tools: ``read_file``, ``write_file``, ``list_files`` (paths confined to the
run's worktree: anything resolving outside it, symlinks included, is refused), ``run_shell``
(``/bin/sh -c`` in the worktree with the run's environment, its own process group, a timeout
and capped output) and ``mesa_api`` (a request to ``$MESA_API_URL`` with the run key).

Each response's ``usage`` (``prompt_tokens`` including ``prompt_tokens_details.cached_tokens``,
``completion_tokens``) is emitted as it arrives, so the budget meter sees every request; the
sink prices it from ``runners/prices.toml`` (local models are unpriced: $0) and keeps the run's
total. The loop ends when
the model answers without tool calls, after ``max_turns`` requests (a failure, like claude's
``error_max_turns``), on ``sink.should_stop()`` or on the run's timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

from runners.base import BaseRunner, EventSink, Outcome, ParsedEvent, RunContext, Usage, tool_result, tool_use
from runners.cli_common import as_int, cap, sub

DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"
READ_MAX = 100_000  # characters of a file returned by read_file
OUTPUT_MAX = 20_000  # characters of shell / API output returned to the model
LIST_MAX = 1_000  # entries returned by list_files
SHELL_TIMEOUT_S = 120
POLL_S = 0.1

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a text file of the worktree.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string", "description": "Path relative to the worktree root."}},
                "required": ["path"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "write_file",
            "description": "Create or overwrite a text file of the worktree (parent directories are created).",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                "required": ["path", "content"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "list_files",
            "description": "List a directory of the worktree (recursively when asked).",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string", "default": "."}, "recursive": {"type": "boolean"}},
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "run_shell",
            "description": "Run a shell command in the worktree; returns exit code and (capped) output.",
            "parameters": {
                "type": "object",
                "properties": {"command": {"type": "string"}, "timeout_s": {"type": "integer"}},
                "required": ["command"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "mesa_api",
            "description": "Call the Mesa REST API as this run: GET /issues/ACME-1, POST /issues/ACME-1/comments.",
            "parameters": {
                "type": "object",
                "properties": {
                    "method": {"type": "string", "enum": ["GET", "POST", "PATCH", "PUT", "DELETE"]},
                    "path": {"type": "string", "description": "Path below the API root, starting with /."},
                    "json": {"type": "object"},
                },
                "required": ["method", "path"],
            },
        },
    },
]

TOOL_GUIDE = (
    "You work inside a git worktree through tools: read_file, write_file, list_files, run_shell and "
    "mesa_api. Use relative paths. When the task is done, answer with a short summary and no tool call."
)


class ToolError(Exception):
    """A tool call that cannot be carried out; its message goes back to the model."""


class ApiError(Exception):
    """The chat-completions endpoint failed."""


def _cap_middle(text: str, limit: int = OUTPUT_MAX) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"


class Workspace:
    """File and shell tools confined to one directory."""

    def __init__(self, root: Path, env: dict[str, str], deadline: float | None) -> None:
        self.root = root.resolve()
        self.env = env
        self.deadline = deadline

    def path(self, relative: Any) -> Path:
        if not isinstance(relative, str) or not relative.strip():
            raise ToolError("path must be a non-empty string")
        target = (self.root / relative).resolve()
        if target != self.root and not target.is_relative_to(self.root):
            raise ToolError(f"path {relative!r} is outside the worktree; refused")
        return target

    def read_file(self, args: dict[str, Any]) -> str:
        target = self.path(args.get("path"))
        if not target.is_file():
            raise ToolError(f"no such file: {args.get('path')}")
        text = target.read_text(encoding="utf-8", errors="replace")
        return text if len(text) <= READ_MAX else text[:READ_MAX] + f"\n[... {len(text) - READ_MAX} characters cut ...]"

    def write_file(self, args: dict[str, Any]) -> str:
        target = self.path(args.get("path"))
        content = args.get("content")
        if not isinstance(content, str):
            raise ToolError("content must be a string")
        if target == self.root or target.is_dir():
            raise ToolError("path is a directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        return f"wrote {len(content.encode())} bytes to {target.relative_to(self.root)}"

    def list_files(self, args: dict[str, Any]) -> str:
        target = self.path(args.get("path") or ".")
        if not target.is_dir():
            raise ToolError(f"not a directory: {args.get('path')}")
        entries: list[str] = []
        walker = sorted(target.rglob("*")) if args.get("recursive") else sorted(target.iterdir())
        for entry in walker:
            rel = entry.relative_to(self.root)
            if ".git" in rel.parts:
                continue
            entries.append(f"{rel}/" if entry.is_dir() else str(rel))
            if len(entries) >= LIST_MAX:
                entries.append(f"[... more than {LIST_MAX} entries ...]")
                break
        return "\n".join(entries) or "(empty)"

    def run_shell(self, args: dict[str, Any]) -> str:
        command = args.get("command")
        if not isinstance(command, str) or not command.strip():
            raise ToolError("command must be a non-empty string")
        limit = SHELL_TIMEOUT_S
        requested = args.get("timeout_s")
        if isinstance(requested, int) and requested > 0:
            limit = min(requested, SHELL_TIMEOUT_S)
        if self.deadline is not None:
            limit = max(min(limit, int(self.deadline - time.monotonic())), 1)
        proc = subprocess.Popen(  # the model's command, run in its own worktree on purpose
            ["/bin/sh", "-c", command],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            text = _cap_middle(out.decode("utf-8", errors="replace"))
            return f"timed out after {limit} s (killed)\n{text}"
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # background children left behind
        return f"exit code {proc.returncode}\n{_cap_middle(out.decode('utf-8', errors='replace'))}"


class OpenAIRunner(BaseRunner):
    name: ClassVar[str] = "openai"
    binary: ClassVar[str | None] = None

    def execute(self, ctx: RunContext, sink: EventSink) -> Outcome:
        base_url = str(ctx.extra.get("base_url") or ctx.env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        api_key = str(ctx.extra.get("api_key") or ctx.env.get("OPENAI_API_KEY") or "")
        if not ctx.model:
            reason = "the openai runner needs a model name (set the agent's model)"
            sink.emit(ParsedEvent("error", {"message": reason}, is_error=True))
            return Outcome(exit_code=None, failure_reason=reason, setup_error=True)
        deadline = time.monotonic() + ctx.timeout_s if ctx.timeout_s and ctx.timeout_s > 0 else None
        request_timeout = float(ctx.extra.get("request_timeout_s") or 300)
        workspace = Workspace(ctx.cwd, ctx.env, deadline)
        system = "\n\n".join(part for part in (ctx.system_prompt.strip(), TOOL_GUIDE) if part)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": ctx.prompt},
        ]
        sink.emit(ParsedEvent("system", {"subtype": "init", "model": ctx.model, "base_url": base_url}))
        max_turns = ctx.max_turns if ctx.max_turns and ctx.max_turns > 0 else 50

        for turn in range(1, max_turns + 1):
            stopped = self._stop_reason(sink, deadline)
            if stopped:
                return self._stopped(ctx, stopped, turn - 1)
            body = {"model": ctx.model, "messages": messages, "tools": TOOLS, "tool_choice": "auto"}
            timeout = (
                request_timeout if deadline is None else max(min(request_timeout, deadline - time.monotonic()), 0.5)
            )
            try:
                response = self._call(f"{base_url}/chat/completions", api_key, body, timeout, sink, deadline)
            except _Stopped as exc:
                return self._stopped(ctx, exc.reason, turn - 1)
            except ApiError as exc:
                reason = f"chat completion failed: {exc}"
                sink.emit(ParsedEvent("error", {"message": reason}, is_error=True))
                return Outcome(exit_code=1, failure_reason=reason, num_turns=turn - 1)
            message = self._message(response)
            delta = self._usage(response)
            content = message.get("content")
            tool_calls = [call for call in message.get("tool_calls") or [] if isinstance(call, dict)]
            first = (
                ParsedEvent("text", {"text": cap(content)}) if isinstance(content, str) and content.strip() else None
            )
            if first is None:
                first = ParsedEvent("system", {"subtype": "response", "turn": turn})
            first.usage = delta if delta.tokens_total else None
            sink.emit(first)
            if not tool_calls:
                result = {"subtype": "success", "is_error": False, "num_turns": turn, "result": cap(content or "")}
                sink.emit(ParsedEvent("result", result))
                return Outcome(exit_code=0, num_turns=turn)
            messages.append({"role": "assistant", "content": content or "", "tool_calls": tool_calls})
            for call in tool_calls:
                messages.append(self._run_tool(call, workspace, ctx, sink))
        reason = f"stopped after max_turns={max_turns} model requests without a final answer"
        result = {"subtype": "error_max_turns", "is_error": True, "num_turns": max_turns, "result": reason}
        sink.emit(ParsedEvent("result", result, is_error=True))
        return Outcome(exit_code=1, failure_reason=reason, num_turns=max_turns)

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _stop_reason(sink: EventSink, deadline: float | None) -> str | None:
        if deadline is not None and time.monotonic() >= deadline:
            return "timed_out"
        return sink.should_stop()

    @staticmethod
    def _stopped(ctx: RunContext, reason: str, turns: int) -> Outcome:
        failure = f"timed out after {ctx.timeout_s} s" if reason == "timed_out" else f"stopped: {reason}"
        return Outcome(exit_code=None, failure_reason=failure, stop_reason=reason, num_turns=turns)

    def _call(
        self, url: str, key: str, body: dict[str, Any], timeout: float, sink: EventSink, deadline: float | None
    ) -> dict[str, Any]:
        """POST in a worker thread so a cancel, a budget stop or the deadline is noticed while waiting."""
        box: dict[str, Any] = {}

        def worker() -> None:
            try:
                box["value"] = _post_json(url, key, body, timeout)
            except Exception as exc:  # handed to the caller below
                box["error"] = exc

        thread = threading.Thread(target=worker, daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(POLL_S)
            if thread.is_alive() and (reason := self._stop_reason(sink, deadline)):
                raise _Stopped(reason)  # the daemon thread finishes (or times out) on its own
        if "error" in box:
            error = box["error"]
            raise error if isinstance(error, ApiError) else ApiError(str(error))
        value = box.get("value")
        if not isinstance(value, dict):
            raise ApiError("the response is not a JSON object")
        return value

    @staticmethod
    def _message(response: dict[str, Any]) -> dict[str, Any]:
        choices = response.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return {}
        return sub(choices[0], "message")

    @staticmethod
    def _usage(response: dict[str, Any]) -> Usage:
        """One response's tokens, with the model the server says answered ("" = the agent's)."""
        usage = sub(response, "usage")
        prompt = as_int(usage.get("prompt_tokens"))
        cached = min(as_int(sub(usage, "prompt_tokens_details").get("cached_tokens")), prompt)
        return Usage(
            tokens_in=prompt - cached,
            tokens_out=as_int(usage.get("completion_tokens")),
            cache_read=cached,
            model=str(response.get("model") or ""),
        )

    def _run_tool(self, call: dict[str, Any], workspace: Workspace, ctx: RunContext, sink: EventSink) -> dict[str, Any]:
        call_id = str(call.get("id") or "")
        function = sub(call, "function")
        name = str(function.get("name") or "")
        raw_args = function.get("arguments")
        args: Any
        try:
            args = json.loads(raw_args) if isinstance(raw_args, str) and raw_args.strip() else (raw_args or {})
        except ValueError:
            args = None
        sink.emit(tool_use(call_id=call_id, name=name, args=args if args is not None else raw_args))
        is_error = False
        try:
            if not isinstance(args, dict):
                raise ToolError("arguments must be a JSON object")
            if name == "mesa_api":
                output = _mesa_api(ctx, args)
            elif name in ("read_file", "write_file", "list_files", "run_shell"):
                output = getattr(workspace, name)(args)
            else:
                raise ToolError(f"unknown tool {name!r}")
        except ToolError as exc:
            output, is_error = f"error: {exc}", True
        except OSError as exc:
            output, is_error = f"error: {exc.strerror or exc}", True
        sink.emit(tool_result(call_id=call_id, content=cap(output), is_error=is_error))
        return {"role": "tool", "tool_call_id": call_id, "content": output}


class _Stopped(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _post_json(url: str, key: str, body: dict[str, Any], timeout: float) -> Any:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # configured endpoint
            return json.loads(response.read().decode("utf-8", errors="replace"))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", errors="replace")[:500]
        raise ApiError(f"HTTP {exc.code} from {url}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ApiError(f"{url} unreachable: {getattr(exc, 'reason', exc)}") from exc
    except ValueError as exc:
        raise ApiError(f"{url} answered with invalid JSON") from exc


def _mesa_api(ctx: RunContext, args: dict[str, Any]) -> str:
    base = ctx.env.get("MESA_API_URL", "").rstrip("/")
    key = ctx.env.get("MESA_API_KEY", "")
    if not base:
        raise ToolError("MESA_API_URL is not set for this run")
    method = str(args.get("method") or "GET").upper()
    if method not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
        raise ToolError(f"unsupported method {method!r}")
    path = args.get("path")
    if not isinstance(path, str) or not path.startswith("/") or "://" in path or path.startswith("//"):
        raise ToolError("path must start with / and stay below the API root")
    body = args.get("json")
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Accept": "application/json", "Authorization": f"Bearer {key}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # the Mesa API of this run
            status, text = response.status, response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ToolError(f"Mesa API unreachable: {getattr(exc, 'reason', exc)}") from exc
    return f"HTTP {status}\n{_cap_middle(text)}"

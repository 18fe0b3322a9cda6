#!/usr/bin/env python3
"""Codex as an MCP tool: a stdio MCP server with one tool, ``codex``, that runs ``codex exec``.

The dual agent (an agent's ``codex_mcp``) gives a Claude run this server next to Mesa's. The pinned
codex-cli (0.169.0) has no ``mcp-server`` subcommand, so this bridge speaks MCP itself and starts
``codex exec --json`` per call. Standard library only, no Mesa import: the worker image carries a copy
(``/usr/local/bin/mesa-codex-mcp``) that runs with the image's ``python3``.

Protocol (MCP over stdio): one JSON-RPC 2.0 message per line. ``initialize`` answers with the client's
``protocolVersion`` when it is one of :data:`PROTOCOL_VERSIONS`, else the newest of them; ``ping``,
``tools/list`` and ``tools/call`` are answered; ``notifications/cancelled`` kills that call's codex
(and sends no answer for it); other notifications are ignored; other methods get error -32601. Calls run
in threads, so a long codex turn does not hold up the rest. End of stdin kills every running codex.

Tool ``codex``: ``prompt`` (required), ``cwd`` (optional, default the bridge's working directory: the
run's workspace, where claude starts it). It runs, with the prompt on stdin::

    codex exec --json --skip-git-repo-check --color never -c analytics.enabled=false
        -c approval_policy="never" <sandbox> [-m MODEL] [<provider>] --cd CWD -- -

with the settings of Mesa's Codex runner (``runners/codex.py``) read from the environment:
``MESA_CODEX_SANDBOX`` (``workspace-write`` with network, the default; ``read-only``;
``danger-full-access``), ``MESA_CODEX_BASE_URL`` (then a custom provider ``mesa`` with
``MESA_CODEX_ENV_KEY``, default ``OPENAI_API_KEY``, and ``MESA_CODEX_WIRE_API``, default
``responses``), ``MESA_CODEX_MODEL``; ``MESA_CODEX_BIN`` is the executable (default ``codex`` on PATH).
The result's text is codex's last ``agent_message``; ``isError`` is true when codex exits non-zero
(the text then ends with the tail of its stderr), reports ``turn.failed``, or gives no final message.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from typing import IO, Any

SERVER_NAME = "mesa-codex"
SERVER_VERSION = "1"
TOOL = "codex"
# The revisions reachable through the initialize handshake, oldest to newest.
PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
SANDBOXES = ("read-only", "workspace-write", "danger-full-access")
STDERR_TAIL = 2000  # characters of codex's stderr in an error result

TOOL_SPEC: dict[str, Any] = {
    "name": TOOL,
    "title": "Codex",
    "description": (
        "Hand a task to OpenAI Codex (codex exec, non-interactive) in the workspace. Codex can read, run "
        "and edit files there; the result is Codex's final message."
    ),
    "inputSchema": {
        "type": "object",
        "properties": {
            "prompt": {"type": "string", "description": "The task for Codex, self-contained."},
            "cwd": {"type": "string", "description": "Directory Codex works in (default: the workspace)."},
        },
        "required": ["prompt"],
    },
}


def codex_argv(cwd: str, env: dict[str, str]) -> list[str]:
    """The ``codex exec`` command line for one call (the prompt goes on stdin: ``-``)."""
    argv = [env.get("MESA_CODEX_BIN") or "codex", "exec", "--json", "--skip-git-repo-check", "--color", "never"]
    argv += ["-c", "analytics.enabled=false", "-c", 'approval_policy="never"']
    sandbox = env.get("MESA_CODEX_SANDBOX") or "workspace-write"
    if sandbox not in SANDBOXES:
        sandbox = "workspace-write"
    if sandbox == "danger-full-access":
        argv.append("--dangerously-bypass-approvals-and-sandbox")
    else:
        argv += ["--sandbox", sandbox]
        if sandbox == "workspace-write":
            argv += ["-c", "sandbox_workspace_write.network_access=true"]
    if env.get("MESA_CODEX_MODEL"):
        argv += ["-m", env["MESA_CODEX_MODEL"]]
    base_url = env.get("MESA_CODEX_BASE_URL")
    if base_url:
        fields = {
            "name": "mesa",
            "base_url": base_url,
            "env_key": env.get("MESA_CODEX_ENV_KEY") or "OPENAI_API_KEY",
            "wire_api": env.get("MESA_CODEX_WIRE_API") or "responses",
        }
        # A JSON string is a valid TOML basic string.
        provider = "{" + ",".join(f"{key}={json.dumps(value)}" for key, value in fields.items()) + "}"
        argv += ["-c", "model_provider=mesa", "-c", f"model_providers.mesa={provider}"]
    return [*argv, "--cd", cwd, "--", "-"]


def final_message(stdout: str) -> tuple[str, str]:
    """From ``codex exec --json`` output: (the last agent message, the turn's failure message or "")."""
    message, failure = "", ""
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        item = event.get("item")
        if event.get("type") == "item.completed" and isinstance(item, dict) and item.get("type") == "agent_message":
            message = str(item.get("text") or "")
        elif event.get("type") == "turn.failed":
            error = event.get("error")
            failure = str(error.get("message", "") if isinstance(error, dict) else error or "turn failed")
    return message, failure


def _text(text: str, *, is_error: bool) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": is_error}


class Bridge:
    """One stdio session: reads requests from ``inp``, writes answers to ``out``."""

    def __init__(self, inp: IO[str], out: IO[str]) -> None:
        self.inp, self.out = inp, out
        self.lock = threading.Lock()  # one writer at a time; guards the two maps below
        self.running: dict[Any, subprocess.Popen[str]] = {}
        self.cancelled: set[Any] = set()
        self.closed = False  # stdin ended: no more answers
        self.threads: list[threading.Thread] = []

    def send(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.out.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
            self.out.flush()

    def serve(self) -> None:
        for line in self.inp:
            if line.strip():
                self.handle(line)
        with self.lock:
            self.closed = True
            procs = list(self.running.values())
        for proc in procs:
            _kill(proc)
        for thread in self.threads:
            thread.join()

    def handle(self, line: str) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            self.send({"id": None, "error": {"code": -32700, "message": "parse error"}})
            return
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            if isinstance(message, dict) and "id" in message and ("result" in message or "error" in message):
                return  # an answer to a request of ours: we send none
            self.send({"id": None, "error": {"code": -32600, "message": "invalid request"}})
            return
        method, params = message["method"], message.get("params")
        params = params if isinstance(params, dict) else {}
        if "id" not in message:
            if method == "notifications/cancelled":
                self.cancel(params.get("requestId"))
            return  # notifications/initialized and the rest need nothing
        rid = message["id"]
        if method == "initialize":
            asked = params.get("protocolVersion")
            version = asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[-1]
            result = {
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": {"name": SERVER_NAME, "version": SERVER_VERSION},
            }
            self.send({"id": rid, "result": result})
        elif method == "ping":
            self.send({"id": rid, "result": {}})
        elif method == "tools/list":
            self.send({"id": rid, "result": {"tools": [TOOL_SPEC]}})
        elif method == "tools/call":
            if params.get("name") != TOOL:
                self.send({"id": rid, "error": {"code": -32602, "message": f"unknown tool: {params.get('name')}"}})
                return
            arguments = params.get("arguments")
            thread = threading.Thread(target=self.call, args=(rid, arguments if isinstance(arguments, dict) else {}))
            self.threads.append(thread)
            thread.start()
        else:
            self.send({"id": rid, "error": {"code": -32601, "message": f"method not found: {method}"}})

    def cancel(self, rid: Any) -> None:
        with self.lock:
            self.cancelled.add(rid)
            proc = self.running.get(rid)
        if proc is not None:
            _kill(proc)

    def call(self, rid: Any, arguments: dict[str, Any]) -> None:
        result = self.run_codex(rid, arguments)
        with self.lock:
            cancelled = self.closed or rid in self.cancelled
        if not cancelled:  # a cancelled request gets no answer
            self.send({"id": rid, "result": result})

    def run_codex(self, rid: Any, arguments: dict[str, Any]) -> dict[str, Any]:
        prompt = arguments.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return _text("`prompt` is required: the task for Codex.", is_error=True)
        cwd = os.path.abspath(str(arguments.get("cwd") or os.getcwd()))
        if not os.path.isdir(cwd):
            return _text(f"`cwd` is not a directory: {cwd}", is_error=True)
        env = dict(os.environ)
        argv = codex_argv(cwd, env)
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,  # its own process group: a cancel kills codex's commands too
            )
        except OSError as exc:
            return _text(f"codex could not start ({argv[0]}): {exc}", is_error=True)
        with self.lock:
            self.running[rid] = proc
        try:
            stdout, stderr = proc.communicate(prompt)
        finally:
            with self.lock:
                self.running.pop(rid, None)
        message, failure = final_message(stdout)
        if proc.returncode != 0:
            tail = stderr.strip()[-STDERR_TAIL:]
            head = f"codex exited with status {proc.returncode}."
            return _text("\n".join(part for part in (head, failure, message, tail) if part), is_error=True)
        if failure:
            return _text(f"codex's turn failed: {failure}", is_error=True)
        if not message:
            return _text("codex ended without a final message.", is_error=True)
        return _text(message, is_error=False)


def _kill(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # it has ended already
        os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    Bridge(sys.stdin, sys.stdout).serve()


if __name__ == "__main__":
    main()

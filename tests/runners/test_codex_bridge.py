"""The Codex bridge (runners/codex_bridge.py): Codex as Claude's MCP tool, with the pinned CLIs.

Unit level: the bridge runs as its own process and is driven over stdio with JSON-RPC, with the fake
``codex`` of tests/fakes/bin. End to end: the REAL pinned claude (fake Anthropic API) starts the bridge from
its ``--mcp-config``, the fake model calls ``mcp__codex__codex``, the bridge runs the REAL pinned codex
(fake OpenAI Responses API), and codex's final message comes back to claude's next model request.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runners.base import RunContext
from runners.claude_code import CODEX_BRIDGE, CODEX_MCP_COMMAND, ClaudeCodeRunner
from runners.codex import CodexRunner
from runners.codex_bridge import codex_argv
from tests.runners.cli_support import FAKES_BIN, RecordingSink, make_ctx
from tests.runners.test_cli_contract import CLI_BIN, FAKES, SYSTEM_PATH, TARGET, _require


class Session:
    """The bridge as claude starts it: a child process spoken to in JSON-RPC lines on stdin/stdout."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            list(CODEX_MCP_COMMAND),
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
        self.proc.stdin.flush()

    def receive(self, timeout: float = 30) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(self.lines.get(timeout=timeout))
        assert answer["jsonrpc"] == "2.0"
        return answer

    def request(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, **({"params": params} if params is not None else {})})
        answer = self.receive(timeout)
        assert answer["id"] == self.next_id
        return answer

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout=10)


def _session_with(tmp_path: Path, **env: str) -> tuple[Session, Path]:
    """A bridge in ``tmp_path/work`` with the fake codex on its PATH (``env`` steers the fake)."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    base = {
        "PATH": f"{FAKES_BIN}:{os.environ.get('PATH', os.defpath)}",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "FAKE_CLI_LOG": str(tmp_path / "codex-argv.json"),
    }
    return Session(work, {**base, **env}), work


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[tuple[Session, Path]]:
    session, work = _session_with(tmp_path)
    yield session, work
    if session.proc.poll() is None:
        session.proc.kill()
        session.proc.wait()


def _initialize(session: Session) -> None:
    answer = session.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {}})
    assert answer["result"]["protocolVersion"] == "2025-06-18"
    session.send({"method": "notifications/initialized"})


def test_it_answers_the_mcp_handshake_and_lists_the_codex_tool(bridge: tuple[Session, Path]) -> None:
    session, _work = bridge
    _initialize(session)
    # A revision the bridge does not know gets its newest one (the client may then disconnect).
    unknown = session.request("initialize", {"protocolVersion": "1999-01-01", "capabilities": {}, "clientInfo": {}})
    assert unknown["result"]["protocolVersion"] == "2025-11-25"
    assert unknown["result"]["capabilities"] == {"tools": {"listChanged": False}}
    assert session.request("ping")["result"] == {}
    tools = session.request("tools/list")["result"]["tools"]
    assert [tool["name"] for tool in tools] == ["codex"]
    assert tools[0]["inputSchema"]["required"] == ["prompt"]
    assert session.request("resources/list")["error"]["code"] == -32601
    assert session.request("tools/call", {"name": "claude", "arguments": {}})["error"]["code"] == -32602
    session.send({"id": 99, "result": {}})  # an answer to nothing of ours: ignored, no reply
    session.proc.stdin.write("not json\n")  # type: ignore[union-attr]
    session.proc.stdin.flush()  # type: ignore[union-attr]
    assert session.receive()["error"]["code"] == -32700
    assert session.close() == 0


def test_it_runs_codex_exec_in_the_workspace_and_returns_its_final_message(
    bridge: tuple[Session, Path], tmp_path: Path
) -> None:
    session, work = bridge
    _initialize(session)
    prompt = "Write fake-output.txt, please."
    result = session.request("tools/call", {"name": "codex", "arguments": {"prompt": prompt}})["result"]
    assert result == {"content": [{"type": "text", "text": "Wrote the file."}], "isError": False}
    assert (work / "fake-output.txt").read_text() == "made-by-codex\n"  # codex ran in the bridge's cwd
    record = json.loads((tmp_path / "codex-argv.json").read_text())
    assert record["argv"][:3] == ["exec", "--json", "--skip-git-repo-check"]
    assert record["argv"][-4:] == ["--cd", str(work), "--", "-"]
    assert record["stdin"] == prompt  # the prompt goes on stdin, never in argv
    assert record["cwd"] == str(work)
    # An explicit cwd, and a missing prompt.
    other = tmp_path / "other"
    other.mkdir()
    result = session.request("tools/call", {"name": "codex", "arguments": {"prompt": "again", "cwd": str(other)}})
    assert result["result"]["isError"] is False and (other / "fake-output.txt").exists()
    missing = session.request("tools/call", {"name": "codex", "arguments": {}})["result"]
    assert missing["isError"] is True and "prompt" in missing["content"][0]["text"]
    gone = session.request("tools/call", {"name": "codex", "arguments": {"prompt": "x", "cwd": str(tmp_path / "no")}})
    assert gone["result"]["isError"] is True


def test_it_reports_a_failing_codex_as_a_tool_error_with_its_stderr(tmp_path: Path) -> None:
    session, _work = _session_with(tmp_path, FAKE_CLI_SCENARIO="crash")
    try:
        _initialize(session)
        result = session.request("tools/call", {"name": "codex", "arguments": {"prompt": "fail"}})["result"]
        assert result["isError"] is True
        text = result["content"][0]["text"]
        assert "codex exited with status 1" in text and "fatal: the fake CLI crashed on purpose" in text
    finally:
        session.close()
    no_codex, _ = _session_with(tmp_path, MESA_CODEX_BIN=str(tmp_path / "absent-codex"))
    try:
        _initialize(no_codex)
        result = no_codex.request("tools/call", {"name": "codex", "arguments": {"prompt": "x"}})["result"]
        assert result["isError"] is True and "could not start" in result["content"][0]["text"]
    finally:
        no_codex.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_it_kills_codex_and_its_commands_when_the_call_is_cancelled(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    session, _work = _session_with(tmp_path, FAKE_CLI_SCENARIO="hang", FAKE_CLI_PIDFILE=str(pidfile))
    try:
        _initialize(session)
        session.send({"id": "slow", "method": "tools/call", "params": {"name": "codex", "arguments": {"prompt": "x"}}})
        deadline = time.monotonic() + 30
        while not (pidfile.exists() and pidfile.read_text()):
            assert time.monotonic() < deadline, "the fake codex never started its grandchild"
            time.sleep(0.05)
        grandchild = int(pidfile.read_text())
        assert session.request("ping")["result"] == {}  # a running call does not hold up the rest
        session.send({"method": "notifications/cancelled", "params": {"requestId": "slow", "reason": "test"}})
        while _alive(grandchild):
            assert time.monotonic() < deadline, "the cancelled codex's command still runs"
            time.sleep(0.05)
        # The cancelled call gets no answer: the next line is the next request's.
        assert session.request("ping")["result"] == {}
    finally:
        assert session.close() == 0
        if pidfile.exists() and pidfile.read_text() and _alive(int(pidfile.read_text())):
            os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_it_runs_codex_with_the_codex_runners_settings(tmp_path: Path) -> None:
    env = {
        "MESA_CODEX_BASE_URL": "http://127.0.0.1:9/v1",
        "MESA_CODEX_WIRE_API": "chat",
        "MESA_CODEX_ENV_KEY": "MY_KEY",
        "MESA_CODEX_MODEL": "gpt-5",
    }
    for sandbox in ("workspace-write", "read-only", "danger-full-access", "bogus"):
        settings = {**env, "MESA_CODEX_SANDBOX": sandbox}
        runner_argv = CodexRunner().command(
            make_ctx(tmp_path, env=settings, model="gpt-5", prompt="p", system_prompt="")
        )
        # The same command line as a Codex run of the agent, but for the prompt (stdin: `-`).
        assert codex_argv(str(tmp_path), settings) == [*runner_argv[:-1], "-"]
        assert runner_argv[-2:] == ["--", "p"]


# --- end to end: the real claude calls the real codex through the bridge ---

ANTHROPIC_PORT, OPENAI_PORT = 8790, 8791
CODEX_SAYS = "Codex here: contract-output.txt now holds made-by-codex."


def _two_fakes(tmp_path: Path) -> tuple[list[str], Path, Path]:
    """argv that starts both fake model APIs in a fresh network namespace, then the CLI (``"$@"``)."""
    logs = tmp_path / "anthropic-log.jsonl", tmp_path / "openai-log.jsonl"
    ready = tmp_path / "anthropic-ready", tmp_path / "openai-ready"
    fakes = [
        ("anthropic_api.py", ANTHROPIC_PORT, logs[0], ready[0]),
        ("openai_responses_api.py", OPENAI_PORT, *logs[1:], ready[1]),
    ]
    script = "ip link set lo up || exit 97; "
    for fake, port, log, flag in fakes:
        script += f'"{sys.executable}" "{FAKES / fake}" {port} "{log}" "{flag}" >/dev/null 2>&1 & '
    for flag in ready:
        script += f'i=0; until [ -e "{flag}" ]; do i=$((i+1)); [ $i -gt 200 ] && exit 98; sleep 0.05; done; '
    return ["unshare", "-n", "sh", "-c", script + 'exec "$@"', "mesa-codex-bridge"], *logs


@pytest.mark.cli
def test_it_lets_the_real_claude_hand_a_task_to_the_real_codex(tmp_path: Path) -> None:
    _require("claude")
    _require("codex")
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    (home / ".codex").mkdir(parents=True)
    prefix, anthropic_log, openai_log = _two_fakes(tmp_path)
    task = f"Create the file {TARGET} containing made-by-codex."
    ctx = RunContext(
        run_id=1,
        agent_slug="dual",
        model="claude-sonnet-4-5",
        prompt="Hand the file task to Codex.",
        system_prompt="You are the dual agent.",
        cwd=work,
        env={
            "PATH": f"{CLI_BIN}:{Path(sys.executable).parent}:{SYSTEM_PATH}",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "TMPDIR": str(tmp_path),
            "ANTHROPIC_API_KEY": "sk-ant-fake",
            "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{ANTHROPIC_PORT}",
            "OPENAI_API_KEY": "sk-fake",
            "CODEX_HOME": str(home / ".codex"),
            "MESA_CODEX_BASE_URL": f"http://127.0.0.1:{OPENAI_PORT}/v1",
            "MESA_CODEX_MODEL": "gpt-5",
            # The fake Claude model calls the bridge's tool; the fake OpenAI model's final words.
            "FAKE_ANTHROPIC_TOOL": json.dumps({"name": "mcp__codex__codex", "input": {"prompt": task}}),
            "FAKE_OPENAI_TEXT": CODEX_SAYS,
        },
        timeout_s=120,  # two node CLIs start on a loaded machine; a healthy run takes seconds
        max_turns=4,
        extra={"codex_mcp": True, "mesa_sandbox": "host", "command_prefix": prefix, "kill_grace_s": 2},
    )
    servers = json.loads(next(a for a in ClaudeCodeRunner().command(ctx) if a.startswith("--mcp-config="))[13:])
    assert servers["mcpServers"]["codex"]["args"] == ["-I", str(CODEX_BRIDGE)]
    sink = RecordingSink(model=ctx.model)
    outcome = ClaudeCodeRunner().execute(ctx, sink)
    claude_asked = [json.loads(x) for x in anthropic_log.read_text().splitlines()] if anthropic_log.exists() else []
    codex_asked = [json.loads(x) for x in openai_log.read_text().splitlines()] if openai_log.exists() else []
    events = [(e.type, {k: str(v)[:300] for k, v in e.data.items()}) for e in sink.events[-12:]]
    why = f"outcome={outcome!r}\nevents={events}\nclaude={claude_asked}\ncodex={codex_asked}"
    assert outcome.exit_code == 0, why
    main = [r for r in claude_asked if r.get("step") in ("tool", "final")]
    assert [r["step"] for r in main] == ["tool", "final"], why
    # claude started the bridge and has its tool (it offers MCP tools to the model through ToolSearch).
    assert "mcp__codex__codex" in sink.of_type("system")[0].data["tools"], why
    # The real codex ran its two model turns: a shell command in the workspace, then its final message.
    assert [r["step"] for r in codex_asked if r.get("step") in ("tool", "final")] == ["tool", "final"], why
    assert (work / TARGET).read_text().strip() == "made-by-codex", why
    # Codex's final message reached claude's next model request as the tool's result.
    assert any(CODEX_SAYS in result for result in main[1]["tool_results"]), why
    call = sink.of_type("tool_use")[0]
    assert call.data["name"] == "mcp__codex__codex" and call.data["input"] == {"prompt": task}, why
    result = sink.of_type("tool_result")[0]
    assert not result.is_error and CODEX_SAYS in result.data["content"], why

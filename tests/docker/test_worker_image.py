"""docker/worker.Dockerfile builds from a local base and holds what agent runs need, run as the sandbox runs it.

The CLIs are the install the contract tests use (``make cli-deps`` into .tools/npm), mounted into the
build (``CLIS=local``): the test needs no registry and checks the very binaries the contract tests ran.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from pathlib import Path

import pytest

from runners.base import RunContext
from runners.claude_code import CODEX_MCP_IMAGE_COMMAND, ClaudeCodeRunner
from tests.docker.conftest import REPO, Podman

pytestmark = pytest.mark.slow
IMAGE = "localhost/mesa-worker:test"
PINS: dict[str, str] = json.loads((REPO / "docker" / "clis" / "package.json").read_text())["dependencies"]
# The command each pinned package installs.
COMMANDS = {
    "@anthropic-ai/claude-code": "claude",
    "@google/gemini-cli": "gemini",
    "@openai/codex": "codex",
    "opencode-ai": "opencode",
}


@pytest.fixture(scope="module")
def worker_image(podman: Podman, base_image: str) -> str:
    clis = (REPO / ".tools" / "npm").resolve()
    installed = clis / "node_modules" / ".package-lock.json"
    assert installed.is_file(), "the pinned CLIs are not installed: run `make cli-deps` (make test does)"
    key = hashlib.sha256(installed.read_bytes()).hexdigest()[:16]  # a changed install misses the build cache
    podman(
        "build",
        "-q",
        "-f",
        str(REPO / "docker" / "worker.Dockerfile"),
        "--build-arg",
        f"BASE={base_image}",
        "--build-arg",
        "CLIS=local",
        "--build-arg",
        f"CLIS_KEY={key}",
        "--volume",
        f"{clis}:/mesa-clis:ro",
        "--build-context",
        f"runners={REPO / 'runners'}",  # the Codex bridge
        "-t",
        IMAGE,
        str(REPO / "docker"),
        timeout=1800,
    )
    return IMAGE


def _run(podman: Podman, image: str, script: str, *options: str, timeout: float = 120) -> list[str]:
    """The script's output lines, run as the container sandbox runs agents: read-only root, tmpfs home
    (``options``: more of ``podman run``'s, such as mounts and environment)."""
    out = podman(
        "run",
        "--rm",
        "--read-only",
        "--tmpfs",
        "/home/agent:rw,size=256m",
        "--tmpfs",
        "/tmp:rw,size=256m",
        "--cap-drop=all",
        "--security-opt=no-new-privileges",
        "--network=none",
        *options,
        image,
        "bash",
        "-c",
        script,
        timeout=timeout,
    )
    return out.splitlines()


def test_it_runs_as_the_non_root_agent_user_in_workspace(podman: Podman, worker_image: str) -> None:
    lines = _run(podman, worker_image, "id -u; id -un; pwd; echo $HOME; touch $HOME/probe && echo home-writable")
    assert lines == ["1000", "agent", "/workspace", "/home/agent", "home-writable"]


def test_it_has_git_python_gh_and_curl(podman: Podman, worker_image: str) -> None:
    script = "git --version; python3 -c 'import sys; print(sys.version_info.major)'; gh --version; curl --version"
    lines = _run(podman, worker_image, script)
    assert lines[0].startswith("git version ")
    assert lines[1] == "3"
    assert lines[2].startswith("gh version ")
    assert any(line.startswith("curl ") for line in lines[3:])


def test_it_answers_the_pinned_version_of_each_agent_cli(podman: Podman, worker_image: str) -> None:
    assert set(COMMANDS) == set(PINS)  # a CLI added to the pins needs its command here
    script = "; ".join(f'echo "{cmd}=$({cmd} --version 2>&1 | head -n 1)"' for cmd in COMMANDS.values())
    answers = dict(line.split("=", 1) for line in _run(podman, worker_image, script) if "=" in line)
    for package, cmd in COMMANDS.items():
        exact = rf"(?<![\d.]){re.escape(PINS[package])}(?![\d.])"  # 2.1.33 must not pass for 2.1.330
        assert re.search(exact, answers.get(cmd, "")), (cmd, answers.get(cmd))


def test_it_has_the_codex_bridge_that_a_claude_run_starts(podman: Podman, worker_image: str) -> None:
    """The command a container run's --mcp-config names answers MCP over stdio with the image's python3."""
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    lines = " ".join(f"'{json.dumps(message)}'" for message in messages)
    out = _run(podman, worker_image, f"printf '%s\\n' {lines} | {CODEX_MCP_IMAGE_COMMAND[0]}")
    answers = [json.loads(line) for line in out]
    assert answers[0]["result"]["protocolVersion"] == "2025-06-18"
    assert [tool["name"] for tool in answers[1]["result"]["tools"]] == ["codex"]


def test_it_runs_the_dual_agent_inside_the_image(podman: Podman, worker_image: str) -> None:
    """The image's claude starts the image's bridge from the --mcp-config a container run gets; the fake Claude
    model calls ``mcp__codex__codex``; the image's codex runs; its final message reaches claude's next request.
    Both fake model APIs run in the container (no network: loopback only), from tests/fakes mounted read-only."""
    said = "Codex in the image wrote contract-output.txt."
    ctx = RunContext(
        run_id=1,
        agent_slug="dual",
        model="claude-sonnet-4-5",
        prompt="Hand the file task to Codex.",
        system_prompt="",
        cwd=Path("/tmp/work"),
        env={},
        timeout_s=120,
        max_turns=4,
        extra={"codex_mcp": True, "mesa_sandbox": "container"},
    )
    env = {
        **ClaudeCodeRunner().env(ctx),
        "ANTHROPIC_API_KEY": "sk-ant-fake",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:8790",
        "OPENAI_API_KEY": "sk-fake",
        "MESA_CODEX_BASE_URL": "http://127.0.0.1:8791/v1",
        "MESA_CODEX_MODEL": "gpt-5",
        "FAKE_ANTHROPIC_TOOL": json.dumps({"name": "mcp__codex__codex", "input": {"prompt": "Write the file."}}),
        "FAKE_OPENAI_TEXT": said,
    }
    script = (
        "mkdir -p /tmp/work $HOME/.codex && cd /tmp/work; "
        "python3 /fakes/anthropic_api.py 8790 /tmp/claude.log /tmp/a.ready >/dev/null 2>&1 & "
        "python3 /fakes/openai_responses_api.py 8791 /tmp/codex.log /tmp/o.ready >/dev/null 2>&1 & "
        "until [ -e /tmp/a.ready ] && [ -e /tmp/o.ready ]; do sleep 0.1; done; "
        f"{shlex.join(ClaudeCodeRunner().command(ctx))} </dev/null >/tmp/claude.out 2>&1; "
        'echo "exit=$?"; echo "file=$(cat contract-output.txt)"; cat /tmp/claude.log; tail -c 3000 /tmp/claude.out'
    )
    options = ["--volume", f"{REPO / 'tests' / 'fakes'}:/fakes:ro"]
    for name, value in env.items():
        options += ["--env", f"{name}={value}"]
    out = _run(podman, worker_image, script, *options, timeout=300)
    why = "\n".join(out)
    assert out[0] == "exit=0" and out[1] == "file=made-by-codex", why
    asked = [json.loads(line) for line in out[2:] if line.startswith('{"path"')]
    main = [r for r in asked if r.get("step") in ("tool", "final")]
    assert [r["step"] for r in main] == ["tool", "final"], why
    assert any(said in result for result in main[1]["tool_results"]), why

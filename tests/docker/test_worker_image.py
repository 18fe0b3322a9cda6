"""docker/worker.Dockerfile builds from a local base and holds what agent runs need, run as the sandbox runs it.

The CLIs are the install the contract tests use (``make cli-deps`` into .tools/npm), mounted into the
build (``CLIS=local``): the test needs no registry and checks the very binaries the contract tests ran.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

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
        "-t",
        IMAGE,
        str(REPO / "docker"),
        timeout=1800,
    )
    return IMAGE


def _run(podman: Podman, image: str, script: str) -> list[str]:
    """The script's output lines, run as the container sandbox runs agents: read-only root, tmpfs home."""
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
        image,
        "bash",
        "-c",
        script,
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

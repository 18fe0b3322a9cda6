"""The container sandbox on a real engine: podman's API socket, started by the ``engine`` fixture.

The image is a busybox-static tree imported locally (no registry; see ``tests/runners/conftest.py``). Each test
runs a tiny ``SubprocessRunner`` whose command is a shell line, through :class:`ContainerSandbox`.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from runners.base import LineParser, Outcome, ParsedEvent, RunContext
from runners.executor import SubprocessRunner
from runners.sandboxes.base import sandbox_for
from runners.sandboxes.container import ContainerSandbox, remove_leftovers
from tests.conftest import TEST_INSTANCE
from tests.runners.conftest import IMAGE, mesa_containers

pytestmark = pytest.mark.slow


class _Lines:
    def parse_line(self, line: str) -> list[ParsedEvent]:
        return [ParsedEvent("text", {"text": line})]


class ShellRunner(SubprocessRunner):
    name = "shell"

    def __init__(self, script: str) -> None:
        self.script = script

    def command(self, ctx: RunContext) -> list[str]:
        return ["sh", "-c", self.script]

    def parser(self, ctx: RunContext) -> LineParser:
        return _Lines()


class Sink:
    def __init__(self) -> None:
        self.events: list[ParsedEvent] = []

    def emit(self, event: ParsedEvent) -> None:
        self.events.append(event)

    def should_stop(self) -> str | None:
        return None


def _run(engine: Any, workdir: Path, script: str, **kw: Any) -> tuple[Outcome, Sink]:
    ctx = RunContext(
        run_id=kw.pop("run_id", 1),
        agent_slug="dev",
        model="",
        prompt="p",
        system_prompt="",
        cwd=workdir,
        env={"MESA_RUN_ID": "1", "PATH": "/host/path", "HOME": "/root"},
        timeout_s=kw.pop("timeout_s", 60),
        max_turns=1,
        extra={"kill_grace_s": 1, "image": IMAGE, "org": "acme", **kw},
    )
    sink = Sink()
    return ContainerSandbox(client=engine).run(ShellRunner(script), ctx, sink), sink


def _mesa_containers(engine: Any) -> list[Any]:
    return mesa_containers(engine)


def test_it_writes_in_the_workspace_only_and_streams_through_the_parser(engine: Any, tmp_path: Path) -> None:
    work = tmp_path / "worktree"
    work.mkdir()
    work.chmod(0o777)  # the container user (1000) writes into the mount
    secret = tmp_path / ".mesa-secret-key"
    secret.write_text("s3cret")
    script = f"echo hello > /workspace/out.txt; id -u; echo HOME=$HOME; cat {secret} || echo no-secret"
    outcome, sink = _run(engine, work, script)
    assert outcome.exit_code == 0, outcome
    assert (work / "out.txt").read_text() == "hello\n"
    texts = [e.data["text"] for e in sink.events]
    assert texts[0] == "1000" and "HOME=/home/mesa" in texts
    assert "no-secret" in texts and "s3cret" not in outcome.stdout
    assert _mesa_containers(engine) == []  # removed when the run ends


def test_it_has_no_network_to_host_listeners(engine: Any, tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        outcome, sink = _run(engine, tmp_path, f"nc -w 2 127.0.0.1 {port} </dev/null && echo reached || echo blocked")
    finally:
        listener.close()
    assert [e.data["text"] for e in sink.events][-1] == "blocked"


def test_it_enforces_the_pids_limit(engine: Any, tmp_path: Path) -> None:
    # The shell says "try" before each fork; ash aborts the script when a fork fails.
    script = "for i in $(seq 1 60); do echo try; sleep 30 & done; echo all-forked"
    outcome, sink = _run(engine, tmp_path, script, limits={"pids": 32})
    texts = [e.data["text"] for e in sink.events]
    assert "all-forked" not in texts and outcome.exit_code != 0, (outcome, texts)
    assert 0 < texts.count("try") <= 32  # the shell itself holds one of the 32


def test_it_stops_and_removes_the_container_on_timeout(engine: Any, tmp_path: Path) -> None:
    outcome, _ = _run(engine, tmp_path, "echo up; sleep 60", timeout_s=1)
    assert outcome.stop_reason == "timed_out" and outcome.exit_code != 0
    assert _mesa_containers(engine) == []


def test_it_removes_containers_of_dead_runs_at_start(engine: Any) -> None:
    def create(name: str, run_id: str, instance: str = TEST_INSTANCE) -> None:
        labels = {"mesa.run": run_id, "mesa.instance": instance}
        engine.containers.create(IMAGE, command=["sleep", "60"], labels=labels, name=f"{name}-{TEST_INSTANCE}")

    create("mesa-left-41", "41")
    create("mesa-live-42", "42")
    create("other-mesa-41", "41", instance=f"another-{TEST_INSTANCE}")  # another Mesa on the same engine
    try:
        assert remove_leftovers(engine, live_run_ids={42}) == [f"mesa-left-41-{TEST_INSTANCE}"]
        assert [c.name for c in _mesa_containers(engine)] == [f"mesa-live-42-{TEST_INSTANCE}"]
        assert engine.containers.get(f"other-mesa-41-{TEST_INSTANCE}")
    finally:
        remove_leftovers(engine, live_run_ids=set())
        remove_leftovers(engine, live_run_ids=set(), instance=f"another-{TEST_INSTANCE}")


def test_it_finds_both_sandboxes_in_the_registry() -> None:
    assert sandbox_for("host").name == "host" and sandbox_for("container").name == "container"
    with pytest.raises(KeyError):
        sandbox_for("vm")


def test_it_enforces_the_memory_limit(engine: Any, tmp_path: Path) -> None:
    # tail -n 1 keeps the one 200 MB "line" in memory: the kernel kills it at the 64 MB limit.
    script = "head -c 200000000 /dev/zero | tail -n 1 | wc -c; echo status=$?"
    _, sink = _run(engine, tmp_path, script, limits={"memory": "64m"})
    texts = [e.data["text"].strip() for e in sink.events]
    assert "200000000" not in texts, texts

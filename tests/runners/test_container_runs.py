"""Runs of agents whose sandbox is ``container``, through the normal path (the scheduler), on podman.

The engine is the private ``podman system service`` of the ``engine`` fixture, reached as
``DOCKER_HOST``; the Mesa API is ``live_server``. The agents use the ``command`` runner with a
busybox shell line (the test image has no agent CLI).
"""

from __future__ import annotations

import json
import shlex
import socket
import threading
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from agents.keys import key_create
from agents.models import Agent, KeyKind
from runners.base import ParsedEvent, RunContext
from runners.execution import execute_run
from runners.models import Run, RunEvent, RunStatus
from runners.readiness import HOST_RUNS_OFF
from runners.sandboxes.container import ContainerSandbox
from runners.scheduler import Scheduler
from runners.services import run_cancel
from tests.conftest import TEST_INSTANCE
from tests.factories import SYSTEM, make_agent, make_issue, make_run, make_user
from tests.runners.conftest import IMAGE, git, mesa_containers
from tests.runners.test_sandbox_container import ShellRunner

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def on_engine(engine: Any, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Any:
    """Mesa talks to the test engine (DOCKER_HOST) and runs the test image."""
    monkeypatch.setenv("DOCKER_HOST", engine.mesa_url)
    settings.MESA_WORKER_IMAGE = IMAGE
    return engine


@pytest.fixture
def host_listener() -> Iterator[int]:
    """A service on another loopback port of the host: a container run must not reach it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def _mesa_containers(engine: Any) -> list[Any]:
    return mesa_containers(engine)


def _lines(run: Run) -> list[str]:
    return [line.strip() for line in run.stdout.splitlines()]


def test_it_runs_a_container_agent_end_to_end(
    org: Any, on_engine: Any, live_server: Any, repo: Path, host_listener: int, tmp_path: Path
) -> None:
    settings.MESA_API_URL = f"{live_server.url}/api/v1"
    secret = tmp_path / ".mesa-secret-key"
    secret.write_text("host-secret")
    database = Path(settings.DATABASES["default"]["NAME"])
    line = "; ".join(
        [
            'wget -q -O - --header "Authorization: Bearer $MESA_API_KEY" "$MESA_API_URL/agents/me"; echo',
            'wget -q -O - "${MESA_API_URL%/api/v1}/settings/runners/" 2>&1 || echo dashboard-refused',
            'wget -q -O /dev/null --header "Authorization: Bearer $MESA_API_KEY" --header "Content-Type: '
            'application/json" --post-data \'{"body": "Posted from the box."}\' '
            '"$MESA_API_URL/issues/$MESA_ISSUE_KEY/comments" && echo commented',
            "echo built-in-a-box > /workspace/feature.txt",
            f"cat {secret} 2>/dev/null || echo no-secret-key",
            f"head -c 16 {database} 2>/dev/null || echo no-database",
            f"nc -w 2 127.0.0.1 {host_listener} </dev/null && echo host-port-reached || echo host-port-blocked",
            'echo "worktree=$MESA_WORKTREE"',
            "id -u",
        ]
    )
    agent = make_agent(org, slug="boxed", runner="command", sandbox="container", model=f"sh -c {shlex.quote(line)}")
    agent.working_dir = str(repo)  # the operator's setting (agents.services), set directly in this test
    agent.save(update_fields=["working_dir"])
    issue = make_issue(org, title="Build it in a box", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.COMPLETED, (run.failure_reason, run.stdout, run.stderr)
    lines = _lines(run)
    me = json.loads(lines[0])
    assert me["slug"] == "boxed" and me["sandbox"] == "container"  # the Mesa API, with its run key
    assert "no-secret-key" in lines and "host-secret" not in run.stdout
    assert "no-database" in lines and "SQLite" not in run.stdout
    assert "commented" in lines and issue.comments.filter(body="Posted from the box.").exists()
    assert "dashboard-refused" in lines and "Runners on this machine" not in run.stdout
    assert "host-port-blocked" in lines and "worktree=/workspace" in lines
    assert lines[-1] == "1000"
    assert "feature.txt" in run.diff and "+built-in-a-box" in run.diff
    assert not (repo / "feature.txt").exists() and git(repo, "status", "--porcelain") == ""
    assert _mesa_containers(on_engine) == []


def test_it_reaches_the_model_api_only_when_egress_allows_it(engine: Any, tmp_path: Path) -> None:
    model_api = socket.socket()
    model_api.bind(("127.0.0.1", 0))
    model_api.listen()
    port = model_api.getsockname()[1]

    def answer() -> None:
        while True:
            try:
                conn, _ = model_api.accept()
            except OSError:
                return
            conn.recv(4096)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\nmodel-api")
            conn.close()

    threading.Thread(target=answer, daemon=True).start()
    script = 'wget -q -O - "$ANTHROPIC_BASE_URL/v1/messages" || echo model-api-blocked'
    seen = {}
    try:
        for egress in ("model_api", "none"):
            sink = _Sink()
            ctx = RunContext(
                run_id=7,
                agent_slug="dev",
                model="",
                prompt="p",
                system_prompt="",
                cwd=tmp_path,
                env={"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}"},
                timeout_s=60,
                max_turns=1,
                extra={"kill_grace_s": 1, "image": IMAGE, "mesa_egress": egress},
            )
            ContainerSandbox(client=engine).run(ShellRunner(script), ctx, sink)
            seen[egress] = [e.data["text"] for e in sink.events]
    finally:
        model_api.close()
    assert seen == {"model_api": ["model-api"], "none": ["model-api-blocked"]}


class _Sink:
    def __init__(self, stop_after: int = 0) -> None:
        self.events: list[ParsedEvent] = []
        self.stop_after = stop_after

    def emit(self, event: ParsedEvent) -> None:
        self.events.append(event)

    def should_stop(self) -> str | None:
        return "cancelled" if self.stop_after and len(self.events) >= self.stop_after else None


def _context(run_id: int, cwd: Path, *, prompt: str = "p", timeout_s: int = 120) -> RunContext:
    """A run of the test image with a one-second stop grace."""
    return RunContext(
        run_id=run_id,
        agent_slug="dev",
        model="",
        prompt=prompt,
        system_prompt="",
        cwd=cwd,
        env={},
        timeout_s=timeout_s,
        max_turns=1,
        extra={"kill_grace_s": 1, "image": IMAGE},
    )


def test_it_stops_and_removes_the_container_on_cancel(engine: Any, tmp_path: Path) -> None:
    ctx = _context(8, tmp_path)
    sink = _Sink(stop_after=1)
    outcome = ContainerSandbox(client=engine).run(ShellRunner("echo working; sleep 100; echo never"), ctx, sink)
    assert outcome.stop_reason == "cancelled" and outcome.exit_code != 0
    assert [e.data["text"] for e in sink.events] == ["working"]
    assert _mesa_containers(engine) == []


def test_a_cancel_from_the_board_stops_and_removes_a_running_container(org: Any, on_engine: Any) -> None:
    agent = make_agent(
        org, slug="boxed", runner="command", sandbox="container", model="sh -c 'echo working; sleep 100'"
    )
    issue = make_issue(org, title="Long one", assignee=None)
    run = make_run(agent, issue=issue, status=RunStatus.RUNNING)
    status: list[str] = []
    worker = threading.Thread(target=lambda: status.append(execute_run(run.pk)))
    worker.start()
    try:
        for _ in range(600):  # until the container's first line is recorded (polling, not a timing assertion)
            if RunEvent.objects.filter(run=run, type="text").exists():
                break
            time.sleep(0.05)
        assert _mesa_containers(on_engine), "the run's container is running"
        run_cancel(actor=SYSTEM, run=Run.objects.get(pk=run.pk), reason="changed my mind")
    finally:
        worker.join(timeout=60)
    run.refresh_from_db()
    assert status == [RunStatus.CANCELLED] and run.status == RunStatus.CANCELLED
    assert _mesa_containers(on_engine) == []


def test_it_gives_a_prompt_on_stdin_and_hands_the_worktree_back(engine: Any, tmp_path: Path) -> None:
    class StdinRunner(ShellRunner):
        prompt_via = "stdin"

    work = tmp_path / "work"
    work.mkdir()
    ctx = _context(9, work, prompt="the task", timeout_s=60)
    sink = _Sink()
    outcome = ContainerSandbox(client=engine).run(StdinRunner("cat > /workspace/got.txt; id -u"), ctx, sink)
    assert outcome.exit_code == 0, outcome
    assert (work / "got.txt").read_text() == "the task"
    owner = (work.stat().st_uid, (work / "got.txt").stat().st_uid)
    assert owner == (work.parent.stat().st_uid,) * 2  # handed back to Mesa's user after the run


class _StuckStream:
    """A real container whose follow stream never ends: what podman's once did after the container exited.

    The hang cannot be caused on demand, so only the stream is replaced; start, reload, wait and the
    plain log reads go to the engine.
    """

    def __init__(self, real: Any, release: threading.Event) -> None:
        self._real = real
        self._release = release

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def logs(self, **kwargs: Any) -> Any:
        if not kwargs.get("stream"):
            return self._real.logs(**kwargs)
        release = self._release

        def never_ends() -> Iterator[bytes]:
            release.wait()
            yield from ()

        return never_ends()


def test_it_finishes_a_run_whose_log_stream_outlives_the_container(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    create = ContainerSandbox._create

    def stuck(self: ContainerSandbox, *args: Any, **kwargs: Any) -> Any:
        return _StuckStream(create(self, *args, **kwargs), release)

    monkeypatch.setattr(ContainerSandbox, "_create", stuck)
    work = tmp_path / "work"
    work.mkdir()
    ctx = _context(10, work)
    sink = _Sink()
    done: list[Any] = []
    runner = threading.Thread(
        target=lambda: done.append(ContainerSandbox(client=engine).run(ShellRunner("echo one; echo two"), ctx, sink))
    )
    runner.start()
    try:
        runner.join(timeout=60)  # well inside the run's own timeout: the container's exit ends it
        assert not runner.is_alive(), "the run waited on a stream that never ends"
    finally:
        release.set()
        runner.join(timeout=30)
    outcome = done[0]
    assert outcome.exit_code == 0, outcome
    assert [line for line in outcome.stdout.splitlines() if line] == ["one", "two"]  # read from the logs instead


def test_scheduler_start_removes_containers_of_runs_a_killed_scheduler_left(org: Any, on_engine: Any) -> None:
    agent = make_agent(org, slug="boxed", runner="command", sandbox="container", model="true")
    dead = make_run(agent, status=RunStatus.RUNNING, claimed_by=f"{socket.gethostname()}:999999999")
    on_engine.containers.create(
        IMAGE,
        command=["sleep", "60"],
        labels={"mesa.run": str(dead.pk), "mesa.instance": TEST_INSTANCE},
        name=f"mesa-dead-{TEST_INSTANCE}",
    )
    on_engine.containers.create(IMAGE, command=["sleep", "60"], labels={"other": "1"}, name=f"not-mesa-{TEST_INSTANCE}")
    try:
        scheduler = Scheduler(max_workers=1)
        scheduler.start()
        scheduler.close(timeout=1)
        names = [c.name for c in on_engine.containers.list(all=True)]
        assert f"mesa-dead-{TEST_INSTANCE}" not in names and f"not-mesa-{TEST_INSTANCE}" in names
        dead.refresh_from_db()
        assert dead.status == RunStatus.FAILED
    finally:
        for container in on_engine.containers.list(all=True, filters={"name": f"not-mesa-{TEST_INSTANCE}"}):
            container.remove(force=True)


def test_doctor_and_the_runners_page_show_the_engine_its_images_and_which_agents_can_run(
    org: Any, on_engine: Any, settings: Any, client: Any
) -> None:
    settings.MESA_ALLOW_HOST_RUNS = False  # login mode: the operator has not allowed host runs
    make_agent(org, slug="boxed", runner="command", sandbox="container", model="true")
    make_agent(org, slug="hosted", runner="command", sandbox="host", model="true")
    out = StringIO()
    call_command("doctor", json=True, stdout=out)
    report = json.loads(out.getvalue())
    engine = report["engine"]
    assert engine["status"] == "ok" and engine["kind"] == "Podman Engine" and engine["url"] == on_engine.mesa_url
    assert IMAGE in engine["images"]
    problems = {row["agent"]: row["problem"] for row in report["agents"]}
    assert problems == {"boxed": "", "hosted": HOST_RUNS_OFF}

    client.force_login(make_user())
    body = client.get("/settings/runners/").content.decode()
    assert "Podman Engine" in body and on_engine.mesa_url in body and IMAGE in body
    assert 'id="agent-readiness"' in body and "host runs are off" in body

    settings.MESA_WORKER_IMAGE = "localhost/not-built:latest"
    text = StringIO()
    call_command("doctor", stdout=text)
    assert "Podman Engine" in text.getvalue()
    line = "acme/boxed (command, container, image localhost/not-built:latest absent): cannot run: the worker image"
    assert line in text.getvalue()


def test_doctor_says_why_container_agents_cannot_run_without_an_engine(
    org: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")
    make_agent(org, slug="boxed", runner="command", sandbox="container", model="true")
    out = StringIO()
    call_command("doctor", json=True, stdout=out)
    report = json.loads(out.getvalue())
    assert report["engine"]["status"] == "missing" and "does not answer" in report["engine"]["error"]
    assert "needs an engine" in report["agents"][0]["problem"]


def test_new_agents_run_in_a_container_as_soon_as_an_engine_answers(
    org: Any, engine: Any, monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> None:
    settings.MESA_SANDBOX_DEFAULT = "auto"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")
    assert make_agent(org, slug="local").sandbox == "host"  # no engine: a fresh install still runs
    monkeypatch.setenv("DOCKER_HOST", engine.mesa_url)
    assert make_agent(org, slug="boxed").sandbox == "container"


def test_a_board_key_cannot_create_a_host_agent_when_containers_are_the_default(
    org: Any, on_engine: Any, settings: Any, client: Any
) -> None:
    settings.MESA_SANDBOX_DEFAULT = "auto"
    _, key = key_create(actor=SYSTEM, org=org, kind=KeyKind.BOARD, name="tests")
    headers = {"authorization": f"Bearer {key}"}
    r = client.post("/api/v1/agents", {"slug": "hosted", "sandbox": "host"}, "application/json", headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "operator_only", r.content
    r = client.post("/api/v1/agents", {"slug": "boxed"}, "application/json", headers=headers)
    assert r.status_code == 201, r.content
    assert Agent.objects.get(org=org, slug="boxed").sandbox == "container"

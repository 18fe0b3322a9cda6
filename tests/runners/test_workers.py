"""Persistent workers on a real engine: add, ls (health), a run exec'd into the worker, cancel, stop, rm.

The engine is the private ``podman system service`` of the ``engine`` fixture, reached as ``DOCKER_HOST``;
the agents use the ``command`` runner with a busybox shell line.
"""

from __future__ import annotations

import json
import os
import shlex
import threading
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from agents.models import Agent
from runners.execution import execute_run
from runners.models import Run, RunEvent, RunStatus, Worker, WorkerStatus
from runners.sandboxes.worker import run_user
from runners.sandboxes.worker_net import RunNetwork
from runners.scheduler import Scheduler
from runners.services import run_cancel
from tests.factories import SYSTEM, make_agent, make_issue, make_run
from tests.runners.conftest import git, mesa_containers

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _agent(org: Any, repo: Path, line: str, slug: str = "boxed") -> Agent:
    agent = make_agent(org, slug=slug, runner="command", sandbox="container", model=f"sh -c {shlex.quote(line)}")
    agent.working_dir = str(repo)  # the operator's setting (agents.services), set directly in this test
    agent.env = {"DEPLOY_TOKEN": "s3cret-token-value"}
    agent.save(update_fields=["working_dir", "env"])
    return agent


def _add_and_start(tmp_path: Path, name: str = "acme-boxed", agent: str = "boxed") -> Worker:
    spec = tmp_path / "worker.toml"
    spec.write_text(
        f'name = "{name}"\norg = "acme"\nagent = "{agent}"\ncredential_sets = []\n'
        '[limits]\ncpus = 0.5\nmemory = "256m"\npids = 64\n[env]\nWORKER_TOKEN = "DEPLOY_TOKEN"\n'
    )
    call_command("worker", "add", str(spec), stdout=StringIO())
    call_command("worker", "start", name, stdout=StringIO())
    return Worker.objects.get(name=name)


def _ls() -> str:
    out = StringIO()
    call_command("worker", "ls", stdout=out)
    return out.getvalue()


def _ids(engine: Any) -> set[str]:
    return {c.id for c in engine.containers.list(all=True)}


def test_it_runs_an_agent_in_its_worker_and_keeps_the_worker_up(
    org: Any, on_engine: Any, repo: Path, tmp_path: Path, live_server: Any
) -> None:
    settings.MESA_API_URL = f"{live_server.url}/api/v1"
    line = "; ".join(
        [
            "hostname",
            'echo "pwd=$(pwd)"',
            'echo "token=$WORKER_TOKEN"',
            'wget -q -O - --header "Authorization: Bearer $MESA_API_KEY" "$MESA_API_URL/agents/me"; echo',
            "echo built-in-a-worker > feature.txt",
            "ls /runs",
            'mv "/runs/run-$MESA_RUN_ID/work" "/runs/run-$MESA_RUN_ID/gone" 2>/dev/null || echo rename-refused',
            "id -u",
        ]
    )
    agent = _agent(org, repo, line)
    worker = _add_and_start(tmp_path)
    container = on_engine.containers.get(worker.container_id)
    assert container.status == "running" and container.labels["mesa.worker"] == "acme-boxed"
    attrs = container.attrs["HostConfig"]
    assert attrs["ReadonlyRootfs"] and attrs["NetworkMode"] == "none" and attrs["PidsLimit"] == 64
    assert {"CHOWN", "KILL", "SETUID", "NET_RAW"} <= set(attrs["CapDrop"]) and not attrs.get("CapAdd")
    assert any("no-new-privileges" in opt for opt in attrs["SecurityOpt"])
    assert [m["Destination"] for m in container.attrs["Mounts"] if m["RW"]] == ["/runs"]
    listing = _ls()
    assert "acme-boxed\tacme/boxed\trunning\thealthy" in listing, listing
    before = _ids(on_engine)
    issue = make_issue(org, title="Build it in the worker", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.COMPLETED, (run.failure_reason, run.stdout, run.stderr)
    lines = [x.strip() for x in run.stdout.splitlines()]
    assert lines[0] == container.id[:12]  # ran inside the worker's container
    assert lines[1] == f"pwd=/runs/run-{run.pk}/work"
    assert lines[2] not in ("token=", "token=s3cret-token-value")  # the secret is there, and redacted
    me = json.loads(lines[3])
    assert me["slug"] == "boxed"  # the Mesa API through the relay into the worker's namespace
    assert lines[4] == f"run-{run.pk}" and lines[-1] == "1000"
    assert "rename-refused" in lines  # the run dir is Mesa's: the agent cannot put a link in its worktree's place
    assert "+built-in-a-worker" in run.diff
    assert not (repo / "feature.txt").exists() and git(repo, "status", "--porcelain") == ""
    assert _ids(on_engine) == before and mesa_containers(on_engine) == []  # no container for the run
    on_engine.containers.get(worker.container_id).reload()
    assert on_engine.containers.get(worker.container_id).status == "running"
    assert not any((Path(settings.MESA_WORKTREES_DIR) / "workers" / "acme" / "boxed").iterdir())

    call_command("worker", "stop", "acme-boxed", stdout=StringIO())
    assert on_engine.containers.get(worker.container_id).status != "running"
    assert "acme-boxed\tacme/boxed\tstopped" in _ls()
    call_command("worker", "rm", "acme-boxed", stdout=StringIO())
    assert worker.container_id not in _ids(on_engine) and not Worker.objects.exists()


def test_a_cancel_kills_only_the_process_in_the_worker(org: Any, on_engine: Any, repo: Path, tmp_path: Path) -> None:
    agent = _agent(org, repo, "echo working; sleep 100; echo never")
    worker = _add_and_start(tmp_path)
    issue = make_issue(org, title="Long one", assignee=None)
    run = make_run(agent, issue=issue, status=RunStatus.RUNNING)
    status: list[str] = []
    thread = threading.Thread(target=lambda: status.append(execute_run(run.pk)))
    thread.start()
    try:
        for _ in range(600):  # until the first line is recorded (polling, not a timing assertion)
            if RunEvent.objects.filter(run=run, type="text").exists():
                break
            time.sleep(0.05)
        run_cancel(actor=SYSTEM, run=Run.objects.get(pk=run.pk), reason="changed my mind")
    finally:
        thread.join(timeout=60)
    run.refresh_from_db()
    assert status == [RunStatus.CANCELLED] and run.status == RunStatus.CANCELLED
    assert "never" not in run.stdout
    container = on_engine.containers.get(worker.container_id)
    assert container.status == "running"
    processes = container.exec_run(["ps", "-o", "args"]).output.decode()
    assert "sleep 100" not in processes, processes  # the process and its children are gone
    assert "healthy" in _ls()
    call_command("worker", "rm", "acme-boxed", stdout=StringIO())


def test_a_run_falls_back_to_a_disposable_container_when_the_worker_is_down(
    org: Any, on_engine: Any, repo: Path, tmp_path: Path
) -> None:
    agent = _agent(org, repo, "echo in-a-box > feature.txt; hostname")
    worker = _add_and_start(tmp_path)
    on_engine.containers.get(worker.container_id).stop(timeout=1)  # behind Mesa's back: the row still says running
    issue = make_issue(org, title="Fallback", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.COMPLETED, (run.failure_reason, run.stdout)
    assert "mesa: worker acme-boxed not used (not healthy: container exited); a disposable container runs" in run.stdout
    assert worker.container_id[:12] not in run.stdout and "+in-a-box" in run.diff
    assert mesa_containers(on_engine) == []
    assert "acme-boxed\tacme/boxed\trunning\tcontainer exited" in _ls()
    call_command("worker", "rm", "acme-boxed", stdout=StringIO())
    assert not Worker.objects.exists() and worker.status == WorkerStatus.RUNNING


def test_worker_commands_refuse_what_they_cannot_do(org: Any, on_engine: Any, repo: Path, tmp_path: Path) -> None:
    _agent(org, repo, "true")
    make_agent(org, slug="hosted", runner="command", sandbox="host", model="true")
    spec = tmp_path / "w.json"
    spec.write_text(json.dumps({"name": "w", "org": "acme", "agent": "boxed", "env": {"X": "MISSING"}}))
    with pytest.raises(CommandError, match="env X: agent boxed has no secret named 'MISSING'"):
        call_command("worker", "add", str(spec))
    spec.write_text(json.dumps({"name": "w", "org": "acme", "agent": "hosted"}))
    with pytest.raises(CommandError, match="a worker is for container agents"):
        call_command("worker", "add", str(spec))
    with pytest.raises(CommandError, match="no worker named 'nope'"):
        call_command("worker", "start", "nope")


def test_scheduler_start_kills_the_process_of_a_dead_run_in_a_worker(
    org: Any, on_engine: Any, repo: Path, tmp_path: Path
) -> None:
    _agent(org, repo, "true")
    worker = _add_and_start(tmp_path)
    run_dir = Path(settings.MESA_WORKTREES_DIR) / "workers" / "acme" / "boxed" / "run-999999"
    run_dir.mkdir()
    os.chown(run_dir, *run_user())
    container = on_engine.containers.get(worker.container_id)
    script = "echo $$ > /runs/run-999999/pid; exec sleep 300"  # what a killed scheduler's run left running
    container.exec_run(["sh", "-c", script], user=":".join(str(n) for n in run_user()), detach=True)
    for _ in range(200):  # until the process wrote its pid (polling, not a timing assertion)
        if (run_dir / "pid").exists():
            break
        time.sleep(0.05)

    scheduler = Scheduler(max_workers=1)
    scheduler.start()
    scheduler.close(timeout=1)

    assert not run_dir.exists()
    assert "sleep 300" not in container.exec_run(["ps", "-o", "args"]).output.decode()
    container.reload()
    assert container.status == "running"


def test_a_timeout_kills_the_process_in_the_worker(org: Any, on_engine: Any, repo: Path, tmp_path: Path) -> None:
    agent = _agent(org, repo, "echo working; sleep 100; echo never")
    agent.timeout_s = 2
    agent.save(update_fields=["timeout_s"])
    worker = _add_and_start(tmp_path)
    run = make_run(agent, issue=make_issue(org, title="Slow", assignee=None), status=RunStatus.RUNNING)

    assert execute_run(run.pk) == RunStatus.TIMED_OUT

    run.refresh_from_db()
    assert "timed out after 2 s; the process in the worker was killed" in run.failure_reason
    container = on_engine.containers.get(worker.container_id)
    assert container.status == "running" and "sleep 100" not in container.exec_run(["ps", "-o", "args"]).output.decode()


def test_a_worker_has_its_agents_own_credential_sets(
    org: Any, on_engine: Any, repo: Path, tmp_path: Path, settings: Any
) -> None:
    home = tmp_path / "operator-home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / ".credentials.json").write_text('{"login": "claude-in-a-worker"}')
    settings.MESA_CREDENTIALS_HOME = str(home)
    agent = _agent(org, repo, 'cat "$HOME/.claude/.credentials.json"; echo; hostname')
    agent.credential_mounts = ["claude"]  # the operator's choice (agents.services), not in the worker's spec
    agent.save(update_fields=["credential_mounts"])
    worker = _add_and_start(tmp_path)  # its spec names no credential set
    run = make_run(agent, issue=make_issue(org, title="Logged in", assignee=None), status=RunStatus.RUNNING)

    assert execute_run(run.pk) == RunStatus.COMPLETED
    run.refresh_from_db()
    assert run.stdout.splitlines()[:2] == ['{"login": "claude-in-a-worker"}', worker.container_id[:12]]

    agent.credential_mounts = ["claude", "codex"]  # chosen after the worker started: its runs go elsewhere
    agent.save(update_fields=["credential_mounts"])
    run = make_run(agent, issue=make_issue(org, title="Codex too", assignee=None), status=RunStatus.RUNNING)
    assert execute_run(run.pk) == RunStatus.COMPLETED
    run.refresh_from_db()
    assert "not used (started without the credential sets codex); a disposable container runs" in run.stdout
    assert worker.container_id[:12] not in run.stdout


# Two runs of one agent in its worker at once: each waits (bounded) until both are inside, then each calls the
# Mesa API through its relay and writes a file of its own; one that also waits for its go file waits bounded too.
_TOGETHER = "; ".join(
    [
        'touch "$HOME/here-$MESA_RUN_ID"',
        "n=0",
        "while [ $(ls $HOME | grep -c '^here-') -lt 2 ]; do n=$((n+1)); [ $n -gt 600 ] && { echo alone; exit 3; }; "
        "sleep 0.1; done",
        "echo both-inside",
    ]
)
_WORK = "; ".join(
    [
        'echo "url=$MESA_API_URL"',
        'wget -q -O - --header "Authorization: Bearer $MESA_API_KEY" "$MESA_API_URL/agents/me"; echo',
        'echo "mine-$MESA_RUN_ID" > "run-$MESA_RUN_ID.txt"',
        "pwd",
    ]
)


def _start(run_ids: list[int]) -> tuple[list[threading.Thread], dict[int, str]]:
    status: dict[int, str] = {}
    threads = [threading.Thread(target=lambda pk=pk: status.update({pk: execute_run(pk)})) for pk in run_ids]
    for thread in threads:
        thread.start()
    return threads, status


def test_it_runs_two_runs_of_an_agent_in_its_worker_at_once(
    org: Any, on_engine: Any, repo: Path, tmp_path: Path, live_server: Any, settings: Any
) -> None:
    settings.MESA_API_URL = f"{live_server.url}/api/v1"
    settings.MESA_MAX_RUNS_PER_AGENT = 2
    agent = _agent(org, repo, f"{_TOGETHER}; {_WORK}")
    worker = _add_and_start(tmp_path)
    runs = [make_run(agent, issue=make_issue(org, title=f"Both {n}"), status=RunStatus.RUNNING) for n in (1, 2)]

    threads, status = _start([run.pk for run in runs])
    for thread in threads:
        thread.join(timeout=120)

    assert status == {run.pk: RunStatus.COMPLETED for run in runs}, [
        (r.failure_reason, r.stdout) for r in Run.objects.all()
    ]
    urls = set()
    for run in runs:
        run.refresh_from_db()
        lines = [x.strip() for x in run.stdout.splitlines()]
        assert lines[0] == "both-inside"  # the other run was in the worker at the same time
        urls.add(lines[1])
        assert json.loads(lines[2])["slug"] == "boxed"  # the Mesa API through this run's own relay
        assert lines[3] == f"/runs/run-{run.pk}/work"
        other = next(r for r in runs if r.pk != run.pk)
        assert f"+mine-{run.pk}" in run.diff and f"run-{other.pk}.txt" not in run.diff
    assert len(urls) == 2  # each run's MESA_API_URL names its own relay
    assert git(repo, "status", "--porcelain") == ""
    container = on_engine.containers.get(worker.container_id)
    assert container.status == "running" and mesa_containers(on_engine) == []
    assert not any((Path(settings.MESA_WORKTREES_DIR) / "workers" / "acme" / "boxed").iterdir())


def test_a_cancel_of_one_run_in_a_worker_leaves_the_other_running(
    org: Any, on_engine: Any, repo: Path, tmp_path: Path, live_server: Any, settings: Any
) -> None:
    settings.MESA_API_URL = f"{live_server.url}/api/v1"
    settings.MESA_MAX_RUNS_PER_AGENT = 2
    wait = "n=0; while [ ! -e $HOME/go-$MESA_RUN_ID ]; do n=$((n+1)); [ $n -gt 600 ] && exit 4; sleep 0.1; done"
    agent = _agent(org, repo, f"{_TOGETHER}; {wait}; {_WORK}")
    worker = _add_and_start(tmp_path)
    container = on_engine.containers.get(worker.container_id)
    cancelled, kept = (
        make_run(agent, issue=make_issue(org, title=f"Go {n}"), status=RunStatus.RUNNING) for n in (1, 2)
    )

    threads, status = _start([cancelled.pk, kept.pk])
    try:
        for _ in range(1200):  # until both are inside (polling, not a timing assertion)
            if RunEvent.objects.filter(run__in=[cancelled, kept], type="text").values("run").distinct().count() == 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the two runs were never in the worker at once: {list(Run.objects.values('failure_reason'))}")
        run_cancel(actor=SYSTEM, run=Run.objects.get(pk=cancelled.pk), reason="only this one")
        threads[0].join(timeout=60)
        assert status == {cancelled.pk: RunStatus.CANCELLED}, Run.objects.get(pk=cancelled.pk).stdout
        assert threads[1].is_alive() and Run.objects.get(pk=kept.pk).status == RunStatus.RUNNING
        processes = container.exec_run(["ps", "-o", "args"]).output.decode()
        assert processes.count("/go-$MESA_RUN_ID") == 1, (
            processes
        )  # the kept run's shell still runs, the other's is gone
        container.exec_run(["touch", f"/home/mesa/go-{kept.pk}"], user=":".join(str(n) for n in run_user()))
    finally:
        for thread in threads:
            thread.join(timeout=60)

    assert status[kept.pk] == RunStatus.COMPLETED, Run.objects.get(pk=kept.pk).stdout
    kept.refresh_from_db()
    lines = [x.strip() for x in kept.stdout.splitlines()]
    assert lines[0] == "both-inside"
    assert json.loads(lines[2])["slug"] == "boxed"  # its relay outlived the cancelled run's
    assert f"+mine-{kept.pk}" in kept.diff
    container.reload()
    assert container.status == "running"


def _listening(container: Any) -> set[str]:
    out = container.exec_run(["netstat", "-ltn"]).output.decode()  # the worker's namespace: its /proc/net/tcp
    return {line.split()[3] for line in out.splitlines() if line.rstrip().endswith("LISTEN")}


def test_runs_in_a_worker_have_their_own_relays_and_share_a_built_in_model_apis(
    org: Any, on_engine: Any, repo: Path, tmp_path: Path
) -> None:
    _agent(org, repo, "true")
    worker = _add_and_start(tmp_path)
    container = on_engine.containers.get(worker.container_id)
    pid = int(container.attrs["State"]["Pid"])
    env = {"MESA_API_URL": "http://127.0.0.1:8000/api/v1"}
    first, second = RunNetwork(), RunNetwork()
    try:
        urls = [net.open(pid, env, runner="claude_code", egress="model_api")["MESA_API_URL"] for net in (first, second)]
        ports = [url.split(":")[2].split("/")[0] for url in urls]
        assert ports[0] != ports[1] and all(url.endswith("/api/v1") for url in urls)
        own = {f"127.0.0.1:{port}" for port in ports}
        assert own | {"127.0.0.11:443"} <= _listening(container)  # api.anthropic.com, as the worker's /etc/hosts says
        first.close()
        assert _listening(container) & (own | {"127.0.0.11:443"}) == {f"127.0.0.1:{ports[1]}", "127.0.0.11:443"}
    finally:
        first.close()
        second.close()
    assert not _listening(container) & (own | {"127.0.0.11:443"})
    third = RunNetwork()
    try:  # a model base URL variable names the run's own relay too
        url = third.open(pid, {"OPENAI_BASE_URL": "http://127.0.0.1:9000/v1"}, runner="codex", egress="model_api")[
            "OPENAI_BASE_URL"
        ]
        port = url.split(":")[2].split("/")[0]
        assert (
            port != "9000"
            and f"127.0.0.1:{port}" in _listening(container)
            and "127.0.0.1:9000" not in _listening(container)
        )
    finally:
        third.close()

"""Persistent workers: a long-lived, hardened container per agent, and runs ``exec``'d into it.

The container (:func:`create_worker_container`) has the hardening of a run container
(:mod:`runners.sandboxes.container`): read-only root, tmpfs home and ``/tmp``, no capabilities,
``no-new-privileges``, a non-root user, cpu/memory/pids limits, ``network_mode="none"``, labels
``mesa.worker`` / ``mesa.org`` / ``mesa.agent`` / ``mesa.instance``. Of the host it mounts:

- :func:`worker_dir` (``<MESA_WORKTREES_DIR>/workers/<org>/<agent>``) read-write at :data:`RUNS`: it
  only ever holds that agent's runs (never another agent's or org's worktree);
- the agent's repository ``objects`` read-only at :data:`gitdir.OBJECTS` (when its working dir is a
  git repository), so git works inside as in a run container;
- the chosen credential sets' files, staged next to the worker dir, read-only at
  :data:`credentials.MOUNTED` and copied into the tmpfs home when the container starts.

A run (:class:`WorkerSandbox`): the run's worktree is moved (``git worktree move``) into
``<worker dir>/run-<id>/work`` with a per-run git directory beside it (its ``.git`` file points there
for the run and is restored before Mesa's git reads it), the run's own relays to the Mesa API (and model API)
are opened in the worker's network namespace for its duration, on ports of their own so that several runs of
the agent can be in the worker at once (:mod:`runners.sandboxes.worker_net`), and the CLI is ``exec``'d with
the run's environment, workdir and user; its output goes through the runner's parser. The wrapper
writes the process id to ``run-<id>/pid``; a cancel or timeout ``exec``'s ``kill`` on that process
(its process group first), the container stays up. Afterwards the commits are brought back, the
worktree is moved back to where Mesa made it and the run dir is removed.

When the worker does not answer its health check, or the run's workspace cannot go into it (not a
git worktree, another repository than the worker's), the run falls back to a disposable container
and says so in its output.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from runners.base import EventSink, Outcome, ParsedEvent, RunContext
from runners.executor import (
    DEFAULT_KILL_GRACE_S,
    POLL_S,
    STDERR_TAIL,
    STDOUT_CAP,
    SubprocessRunner,
    _Capped,
    _parse,
    process_outcome,
)
from runners.sandboxes import credentials, gitdir
from runners.sandboxes.container import (
    CONTAINER_UID,
    HOME,
    ContainerSandbox,
    _chown_tree,
    _engine_is_podman,
    container_env,
)
from runners.sandboxes.engine import docker_client, instance_id
from runners.sandboxes.relay import RelayError
from runners.sandboxes.worker_net import RunNetwork
from runners.worktrees import repo_lock, worktrees_root

RUNS = "/runs"  # the worker dir inside the container
IDLE = ["/bin/sh", "-c", 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done']
_GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
_EOF = object()


def worker_dir(org_slug: str, agent_slug: str) -> Path:
    return worktrees_root() / "workers" / org_slug / agent_slug


def credentials_dir(org_slug: str, agent_slug: str) -> Path:
    """The staged logins of a worker: beside its worker dir, never inside what the container mounts read-write."""
    return worktrees_root() / "workers" / org_slug / f".{agent_slug}.credentials"


def run_user() -> tuple[int, int]:
    """Who runs inside: Mesa's own user, or uid 1000 when Mesa is root (files are handed over per run)."""
    uid, gid = os.getuid(), os.getgid()
    return (CONTAINER_UID, CONTAINER_UID) if uid == 0 else (uid, gid)


@dataclass(frozen=True)
class WorkerSpec:
    """What the container of a worker is made of (from the Worker row and its agent)."""

    name: str
    org: str
    agent: str
    image: str
    cpus: float
    memory: str
    pids: int
    env: dict[str, str]  # resolved secret values
    credential_sets: list[str]
    objects_dir: str  # the agent's repository objects ("" when it has none)
    extra_hosts: dict[str, str]


def create_worker_container(client: Any, spec: WorkerSpec) -> Any:
    """Create and start the worker's container; returns it. Raises on any engine error."""
    uid, gid = run_user()
    user = f"{uid}:{gid}"
    runs = worker_dir(spec.org, spec.agent)
    runs.mkdir(parents=True, exist_ok=True)
    runs.chmod(0o755)
    volumes: dict[str, dict[str, str]] = {str(runs): {"bind": RUNS, "mode": "rw"}}
    if spec.objects_dir:
        volumes[spec.objects_dir] = {"bind": gitdir.OBJECTS, "mode": "ro"}
    command = list(IDLE)
    logins = credentials_dir(spec.org, spec.agent)
    shutil.rmtree(logins, ignore_errors=True)
    logins.mkdir(parents=True)
    # stage() writes into <dir>/credentials: the dir is what the container sees at MOUNTED's parent.
    if credentials.stage(spec.credential_sets, logins, uid=uid, gid=gid):
        volumes[str(logins / "credentials")] = {"bind": credentials.MOUNTED, "mode": "ro"}
        command = ["/bin/sh", "-c", credentials.COPY_INTO_HOME + IDLE[2]]
    remove_worker_containers(client, spec.name)  # a leftover of this worker (a crash, a lost row) holds the name
    home = "rw,size=256m,mode=0700,U" if _engine_is_podman(client) else f"rw,size=256m,mode=0700,uid={uid},gid={gid}"
    container = client.containers.create(
        spec.image,
        command=command,
        user=user,
        working_dir=RUNS,
        environment={**spec.env, "HOME": HOME},
        volumes=volumes,
        network_mode="none",
        extra_hosts=spec.extra_hosts or None,
        read_only=True,
        tmpfs={HOME: home, "/tmp": "rw,size=256m"},
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        mem_limit=spec.memory,
        nano_cpus=int(spec.cpus * 1e9),
        pids_limit=spec.pids,
        labels={
            "mesa.worker": spec.name,
            "mesa.org": spec.org,
            "mesa.agent": spec.agent,
            "mesa.instance": instance_id(),
            "mesa.credential_sets": ",".join(sorted(spec.credential_sets)),  # what a run may expect in it
        },
        name=f"mesa-worker-{spec.name}-{instance_id()}",
    )
    try:
        container.start()
    except Exception:
        with contextlib.suppress(Exception):
            container.remove(force=True)
        raise
    return container


def remove_worker_containers(client: Any, name: str, *, instance: str = "") -> list[str]:
    """Remove this Mesa's containers of worker ``name`` (``*`` for all its workers); their names."""
    label = "mesa.worker" if name == "*" else f"mesa.worker={name}"
    removed = []
    for container in client.containers.list(
        all=True, filters={"label": [label, f"mesa.instance={instance or instance_id()}"]}
    ):
        with contextlib.suppress(Exception):
            container.remove(force=True)
            removed.append(container.name)
    return removed


def worker_health(client: Any, container_id: str) -> str:
    """ "healthy" when the container runs and answers an ``exec`` of ``true``; else why not."""
    if not container_id:
        return "no container"
    try:
        container = client.containers.get(container_id)
    except Exception as exc:  # gone, or the engine does not answer
        return f"container not found: {type(exc).__name__}"[:200]
    if container.status != "running":
        return f"container {container.status}"
    try:
        result = container.exec_run(["true"], user=":".join(str(n) for n in run_user()))
    except Exception as exc:
        return f"exec failed: {exc}"[:200]
    return "healthy" if result.exit_code == 0 else f"exec `true` exited {result.exit_code}"


def worker_objects_mount(container: Any) -> str:
    """The host directory the container has at :data:`gitdir.OBJECTS` ("" when none)."""
    for mount in container.attrs.get("Mounts") or []:
        if mount.get("Destination") == gitdir.OBJECTS:
            return str(mount.get("Source") or "")
    return ""


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **_GIT_ENV}
    done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise _NotHere(f"git {args[0]} failed: {done.stderr.strip()[:200]}")
    return done.stdout.strip()


class _NotHere(Exception):
    """This run cannot go into the worker (the message says why): it falls back to a disposable container."""


@dataclass
class _Placed:
    """A run's worktree moved into the worker dir, and how to put it back."""

    original: Path  # the worktree's top as Mesa made it
    moved: Path  # where it is for the run (<worker dir>/run-<id>/work)
    run_dir: Path
    repo_root: str
    dotgit: str  # the worktree's own .git file, restored after the run
    run_git: gitdir.RunGit | None = None


def _place(ctx: RunContext, runs: Path, objects_mount: str) -> _Placed:
    """Move the run's worktree into the worker dir (under the repository's lock)."""
    top = Path(_git(ctx.cwd, "rev-parse", "--show-toplevel")).resolve()
    if not top.is_relative_to(worktrees_root().resolve()) or not (top / ".git").is_file():
        raise _NotHere("the run's workspace is not a Mesa worktree")
    common = Path(_git(top, "rev-parse", "--path-format=absolute", "--git-common-dir")).resolve()
    if not objects_mount or Path(objects_mount).resolve() != common / "objects":
        raise _NotHere("the worker was started for another repository (or none)")
    repo_root = str(common.parent.resolve())
    runs = runs.resolve()
    run_dir = runs / f"run-{ctx.run_id}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    run_dir.chmod(0o755)  # Mesa's: when Mesa is root, the run's user cannot rename what is in it
    moved = run_dir / "work"
    with repo_lock(repo_root):
        _git(Path(repo_root), "worktree", "move", str(top), str(moved))
    return _Placed(original=top, moved=moved, run_dir=run_dir, repo_root=repo_root, dotgit=(moved / ".git").read_text())


def _unplace(placed: _Placed, sink: EventSink) -> None:
    """Restore the worktree's .git file, bring the commits back, move the worktree back.

    Nothing is touched when the run dir or the worktree is no longer the directory Mesa made (a link put in
    its place would point Mesa's writes and git commands at a host path of the agent's choosing)."""
    for path in (placed.run_dir, placed.moved):
        if path.is_symlink() or not path.is_dir() or path.resolve() != path:
            message = f"{path.name} was replaced during the run; the worktree is left in the worker"
            sink.emit(ParsedEvent("error", {"message": message}, is_error=True))
            return
    dotgit = placed.moved / ".git"
    if dotgit.is_dir() and not dotgit.is_symlink():
        shutil.rmtree(dotgit, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        dotgit.unlink()
    dotgit.write_text(placed.dotgit)  # the host's git reads only what Mesa wrote
    if placed.run_git is not None:
        try:
            gitdir.import_commits(placed.run_git)
        except (gitdir.GitImportError, OSError) as exc:
            sink.emit(ParsedEvent("error", {"message": f"the commits made in the worker were not kept: {exc}"}))
    try:
        with repo_lock(placed.repo_root):
            _git(Path(placed.repo_root), "worktree", "move", str(placed.moved), str(placed.original))
    except _NotHere as exc:
        sink.emit(ParsedEvent("error", {"message": f"the worktree could not be moved back: {exc}"}, is_error=True))


class WorkerSandbox:
    """Runs the command in the agent's running worker (``ctx.extra["mesa_worker"]``), else falls back."""

    name = "worker"

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = docker_client()
        return self._client

    def _fallback(self, runner: SubprocessRunner, ctx: RunContext, sink: EventSink, why: str) -> Outcome:
        note = f"mesa: worker {ctx.extra['mesa_worker'].get('name', '')} not used ({why}); a disposable container runs"
        sink.emit(ParsedEvent("system", {"message": note}))
        outcome = ContainerSandbox(client=self._client).run(runner, ctx, sink)
        return replace(outcome, stdout=f"{note}\n{outcome.stdout}")

    def run(self, runner: SubprocessRunner, ctx: RunContext, sink: EventSink) -> Outcome:
        info = dict(ctx.extra.get("mesa_worker") or {})
        try:
            health = worker_health(self.client, str(info.get("container_id", "")))
        except RuntimeError as exc:  # no engine configured
            health = str(exc)
        if health != "healthy":
            return self._fallback(runner, ctx, sink, f"not healthy: {health}")
        container = self.client.containers.get(info["container_id"])
        staged = set(filter(None, str(container.labels.get("mesa.credential_sets", "")).split(",")))
        if missing := sorted(set(ctx.extra.get("credential_mounts") or []) - staged):
            return self._fallback(runner, ctx, sink, f"started without the credential sets {', '.join(missing)}")
        runs = worker_dir(str(ctx.extra.get("org", "")), ctx.agent_slug)
        try:
            placed = _place(ctx, runs, worker_objects_mount(container))
        except (_NotHere, OSError) as exc:
            return self._fallback(runner, ctx, sink, str(exc))
        uid, gid = run_user()
        handed = os.getuid() == 0
        network = RunNetwork()
        try:
            placed.run_git = gitdir.prepare(placed.moved, placed.run_dir, uid=uid, gid=gid)
            if placed.run_git is not None:
                # For the run, the worktree's .git names the run's git dir as the worker sees it.
                (placed.moved / ".git").write_text(f"gitdir: {RUNS}/run-{ctx.run_id}/git\n")
            (placed.run_dir / "pid").touch()
            os.lchown(placed.run_dir / "pid", uid, gid)  # the wrapper writes the process id there
            if handed:
                _chown_tree(placed.moved, uid, gid)  # the worktree only; the run dir stays root's
            return self._exec(container, runner, ctx, sink, placed, network, f"{uid}:{gid}")
        except (_SetupError, RelayError, gitdir.GitImportError) as exc:
            sink.emit(ParsedEvent("error", {"message": str(exc)}, is_error=True))
            return Outcome(exit_code=None, failure_reason=str(exc), setup_error=True)
        finally:
            network.close()
            if handed:
                _chown_tree(placed.moved, 0, 0)
            _unplace(placed, sink)
            shutil.rmtree(placed.run_dir, ignore_errors=True)

    def _exec(
        self,
        container: Any,
        runner: SubprocessRunner,
        ctx: RunContext,
        sink: EventSink,
        placed: _Placed,
        network: RunNetwork,
        user: str,
    ) -> Outcome:
        cmd = runner.command(ctx)
        if not cmd or not cmd[0]:
            raise _SetupError("no command to run")
        inside_run = f"{RUNS}/run-{ctx.run_id}"
        relative = ctx.cwd.resolve().relative_to(placed.original).as_posix()
        workdir = f"{inside_run}/work" + ("" if relative == "." else f"/{relative}")
        stdin = runner.stdin(ctx)
        redirect = "</dev/null"
        if stdin is not None:
            (placed.run_dir / "stdin").write_bytes(stdin)
            redirect = f"<{inside_run}/stdin"
        pid = int(container.attrs.get("State", {}).get("Pid") or 0)
        egress = str(ctx.extra.get("mesa_egress") or "none")
        try:  # the run's own relays: its URLs inside name their ports (runners.sandboxes.worker_net)
            env = container_env(network.open(pid, ctx.env, runner=runner.name, egress=egress))
        except RelayError as exc:
            raise _SetupError(f"could not give the run its network in the worker: {exc}") from exc
        env["MESA_WORKTREE"] = workdir
        wrapper = f'echo $$ > {inside_run}/pid; exec "$@" {redirect}'
        api = self.client.api
        try:
            exec_id = api.exec_create(
                container.id,
                ["/bin/sh", "-c", wrapper, "mesa-run", *cmd],
                stdout=True,
                stderr=True,
                environment=env,
                workdir=workdir,
                user=user,
            )["Id"]
            stream = api.exec_start(exec_id, stream=True, demux=True)
        except Exception as exc:
            raise _SetupError(f"could not exec in the worker: {exc}") from exc
        on_start = getattr(sink, "started", None)
        if callable(on_start):
            on_start(pid)
        return self._follow(api, exec_id, stream, container, runner, ctx, sink, inside_run)

    def _follow(
        self,
        api: Any,
        exec_id: str,
        stream: Iterator[tuple[bytes | None, bytes | None]],
        container: Any,
        runner: SubprocessRunner,
        ctx: RunContext,
        sink: EventSink,
        inside_run: str,
    ) -> Outcome:
        parser = runner.parser(ctx)
        grace = float(ctx.extra.get("kill_grace_s", DEFAULT_KILL_GRACE_S))
        lines: queue.Queue[object] = queue.Queue()
        stderr: list[bytes] = []
        threading.Thread(target=_pump, args=(stream, lines, stderr), daemon=True).start()
        stdout = _Capped(STDOUT_CAP)
        deadline = time.monotonic() + ctx.timeout_s if ctx.timeout_s and ctx.timeout_s > 0 else None
        stop_reason = ""
        killed_at: float | None = None

        def kill(signal: str) -> None:
            kill_run(container, inside_run, signal)

        def stop(reason: str) -> None:
            nonlocal stop_reason, killed_at
            stop_reason = reason
            killed_at = time.monotonic()
            kill("TERM")

        eof = False
        hard = False
        while not eof:
            try:
                item = lines.get(timeout=POLL_S)
            except queue.Empty:
                item = None
            if item is _EOF:
                eof = True
            elif isinstance(item, bytes):
                stdout.add(item.decode("utf-8", errors="replace"))
                text = item.decode("utf-8", errors="replace").rstrip("\r\n")
                if text.strip():
                    for event in _parse(parser, text):
                        sink.emit(event)
                        if not stop_reason and (asked := sink.should_stop()):
                            stop(asked)
                            break
            if not stop_reason:
                if deadline is not None and time.monotonic() >= deadline:
                    stop("timed_out")
                elif item is None and (asked := sink.should_stop()):
                    stop(asked)
            elif killed_at is not None and time.monotonic() - killed_at > max(grace, 1.0):
                if not hard:
                    hard = True
                    kill("KILL")
                elif time.monotonic() - killed_at > max(grace, 1.0) + 10:
                    break  # an orphan still holds the output open: the run is over all the same
        exit_code: int | None = None
        for _ in range(100):  # the exec's state settles right after its output ends
            with contextlib.suppress(Exception):
                state = api.exec_inspect(exec_id)
                if not state.get("Running"):
                    exit_code = state.get("ExitCode")
                    break
            time.sleep(0.05)
        exit_code = int(exit_code) if exit_code is not None else -1
        stderr_tail = b"".join(stderr).decode("utf-8", "replace")[-STDERR_TAIL:]
        return process_outcome(
            exit_code=exit_code,
            stdout=stdout.text(),
            stop_reason=stop_reason,
            stderr_tail=stderr_tail,
            timeout_s=ctx.timeout_s,
            stopped="the process in the worker was killed",
        )


def kill_run(container: Any, inside_run: str, signal: str) -> None:
    """Signal the process a run's wrapper recorded in ``<inside_run>/pid``: its process group first (the CLI's
    children; an exec'd process leads its own group), else the process alone. The container stays up."""
    line = f'p=$(cat {inside_run}/pid) && {{ kill -{signal} -- -"$p" 2>/dev/null || kill -{signal} "$p"; }}'
    with contextlib.suppress(Exception):
        container.exec_run(["/bin/sh", "-c", line], user=":".join(str(n) for n in run_user()))


def _pump(chunks: Iterator[tuple[bytes | None, bytes | None]], out: queue.Queue[object], stderr: list[bytes]) -> None:
    buffer = b""
    kept = 0
    try:
        for chunk_out, chunk_err in chunks:
            if chunk_err:
                stderr.append(chunk_err)
                kept += len(chunk_err)
                while kept > STDERR_TAIL * 2 and len(stderr) > 1:
                    kept -= len(stderr.pop(0))
            if chunk_out:
                buffer += chunk_out
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    out.put(line + b"\n")
    except Exception:  # the stream ends with the process (or the engine's connection): the exit code tells
        pass
    finally:
        if buffer:
            out.put(buffer)
        out.put(_EOF)


class _SetupError(Exception):
    """The run could not be set up in the worker: it fails at once with this reason."""

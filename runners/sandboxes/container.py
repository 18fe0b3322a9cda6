"""The container sandbox: the runner's command runs in a disposable container (docker SDK, ``DOCKER_HOST``).

Per run: only the run's worktree is mounted (read-write at ``/workspace``); read-only root
filesystem with a tmpfs home and ``/tmp``; all capabilities dropped; ``no-new-privileges``; a
non-root user; cpu, memory and pids limits; no network (``network_mode="none"``); labels
``mesa.run`` / ``mesa.org`` / ``mesa.agent``. stdout goes through the runner's own parser as on the
host. A timeout or a stop asked by the sink kills the container; it is always removed at the end,
and :func:`remove_leftovers` removes containers of runs that are no longer running.

Network: the container's namespace has only loopback; :mod:`runners.sandboxes.relay` listens inside
it and relays to the Mesa API (``MESA_API_URL`` keeps working as is, or is rewritten to the loopback
address that relays) and, when the agent's ``egress`` is ``model_api``, to its model API (the base
URL variables of ``MODEL_URL_VARS`` in the run's environment, else the runner's public API). The
command waits for the relays (a ready file in ``/run/mesa``) before it starts.

Ownership: the container runs as the worktree's owner when that is not root; a root-owned worktree
(Mesa running as root) is handed to uid 1000 for the run and handed back before Mesa reads the diff.

A prompt on stdin is a file of the run dir that the wrapper redirects to the command.

Git works inside (:mod:`runners.sandboxes.gitdir`); the agent's chosen CLI logins are read-only copies
(:mod:`runners.sandboxes.credentials`); the image is the agent's ``container_image`` or ``MESA_WORKER_IMAGE``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
from runners.sandboxes.engine import docker_client, instance_id, worker_image
from runners.sandboxes.relay import Endpoint, RelayError, Relays

WORKSPACE = "/workspace"
HOME = "/home/mesa"
CONTAINER_UID = 1000  # who runs in the container when Mesa (and so the worktree) is root
RUN_DIR = "/run/mesa"  # read-only in the container: the ready file the command waits for
# Where each runner's CLI finds its model API when no base URL variable says otherwise.
MODEL_APIS: dict[str, tuple[str, ...]] = {
    "claude_code": ("https://api.anthropic.com",),
    "codex": ("https://api.openai.com", "https://chatgpt.com"),
    "gemini": ("https://generativelanguage.googleapis.com",),
    "copilot": ("https://api.githubcopilot.com", "https://api.github.com"),
    "opencode": ("https://api.anthropic.com", "https://api.openai.com"),
}
# What a run may ask of Mesa over its relay: the API and the MCP endpoint, not the dashboard.
MESA_PATHS = ("/api/", "/mcp")
# Variables that point a CLI at another model endpoint (setting them is the operator's, agents.services).
MODEL_URL_VARS = ("ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "GOOGLE_GEMINI_BASE_URL", "MESA_CODEX_BASE_URL")
# The command's wrapper: wait for the relays (the ready file), then become the command, stdin from a file.
_WAIT = (
    f"n=0; while [ ! -e {RUN_DIR}/ready ]; do n=$((n+1)); if [ $n -gt 600 ]; then "
    'echo "mesa: the network relay did not come up" >&2; exit 125; fi; sleep 0.05; done; '
)
_EXEC_STDIN = f'exec "$@" <{RUN_DIR}/stdin'
_EXEC = 'exec "$@" </dev/null'
# Host variables that describe the host, not the run: they would be wrong (or leak) inside.
_HOST_ONLY_ENV = frozenset({"PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD", "TMPDIR", "VIRTUAL_ENV"})
_EOF = object()
# How often a quiet run asks the engine whether its container is still running (see ContainerSandbox._follow).
EXIT_LOOK_S = 1.0


def container_env(env: dict[str, str]) -> dict[str, str]:
    inside = {k: v for k, v in env.items() if k not in _HOST_ONLY_ENV}
    inside["HOME"] = HOME
    if "MESA_WORKTREE" in inside:
        inside["MESA_WORKTREE"] = WORKSPACE  # the host path means nothing inside
    return inside


def _labels(ctx: RunContext) -> dict[str, str]:
    return {
        "mesa.run": str(ctx.run_id),
        "mesa.org": str(ctx.extra.get("org", "")),
        "mesa.agent": ctx.agent_slug,
        "mesa.instance": instance_id(),
    }


class NetworkPlan:
    """What a run's container may reach: relays to open, the environment and ``/etc/hosts`` inside."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []
        self.extra_hosts: dict[str, str] = {}
        self._next_ip = 10

    def add(self, url: str, *, paths: tuple[str, ...] = ()) -> str:
        """Let the container reach ``url``'s host and port; returns the URL to use inside.

        ``paths``: on plain HTTP, the only request targets relayed (see ``relay``).
        """
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not host or parts.scheme not in ("http", "https"):
            return url
        port = parts.port or (443 if parts.scheme == "https" else 80)
        netloc = parts.netloc
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if host == "localhost" or (literal is not None and literal.is_loopback and literal.version == 4):
            listen = "127.0.0.1"  # the same loopback address inside: the URL works unchanged
        elif literal is not None:
            listen = self._fresh_ip()  # an address of the host: inside, a loopback address relays to it
            netloc = f"{listen}:{port}"
        else:
            listen = self.extra_hosts.get(host) or self._fresh_ip()
            self.extra_hosts[host] = listen  # the name resolves to the relay inside
        if not any(e.listen_ip == listen and e.port == port for e in self.endpoints):
            gate = paths if parts.scheme == "http" else ()
            self.endpoints.append(Endpoint(listen, port, host, port, gate))
        return urlunsplit(parts._replace(netloc=netloc))

    def _fresh_ip(self) -> str:
        self._next_ip += 1
        return f"127.0.0.{self._next_ip}"


def network_plan(env: dict[str, str], *, runner: str, egress: str) -> tuple[NetworkPlan, dict[str, str]]:
    """The relays a run needs and its environment inside: the Mesa API always, the model API if allowed."""
    plan = NetworkPlan()
    inside = dict(env)
    if env.get("MESA_API_URL"):
        inside["MESA_API_URL"] = plan.add(env["MESA_API_URL"], paths=MESA_PATHS)
    if egress == "model_api":
        urls = {name: env[name] for name in MODEL_URL_VARS if env.get(name)}
        for name, url in urls.items():
            inside[name] = plan.add(url)
        if not urls:
            for url in MODEL_APIS.get(runner, ()):
                plan.add(url)
    return plan, inside


def _owner(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    """Hand a worktree to ``uid:gid`` (never following a link: the agent may have left some)."""
    os.lchown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            with contextlib.suppress(FileNotFoundError):
                os.lchown(os.path.join(root, name), uid, gid)


def _exited(container: Any) -> bool:
    """Whether the engine says ``container`` is no longer running (False when it cannot tell)."""
    try:
        container.reload()
    except Exception:
        return False
    return str(getattr(container, "status", "")) in {"exited", "dead", "stopped"}


def _pump(chunks: Iterable[bytes], out: queue.Queue[object]) -> None:
    buffer = b""
    try:
        for chunk in chunks:
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                out.put(line + b"\n")
    except Exception:  # the stream ends with the container (or its removal); the exit code tells
        pass
    finally:
        if buffer:
            out.put(buffer)
        out.put(_EOF)


class ContainerSandbox:
    name = "container"

    def __init__(self, client: Any = None, image: str = "") -> None:
        self._client = client
        self.image = image or worker_image()

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = docker_client()
        return self._client

    def _home_tmpfs(self, user: str) -> str:
        """The tmpfs home's options: owned by the run's user (a CLI writes its state there).

        Podman refuses ``uid=``/``gid=`` and takes ``U`` (chown to the container's user); Docker hands the
        options to the kernel, which takes ``uid=``/``gid=``.
        """
        if _engine_is_podman(self.client):
            return "rw,size=256m,mode=0700,U"
        uid, _, gid = user.partition(":")
        return f"rw,size=256m,mode=0700,uid={uid},gid={gid}"

    def run(self, runner: SubprocessRunner, ctx: RunContext, sink: EventSink) -> Outcome:
        cmd = runner.command(ctx)
        if not cmd or not cmd[0]:
            return _setup_failure(sink, "no command to run")
        plan, env = network_plan(ctx.env, runner=runner.name, egress=str(ctx.extra.get("mesa_egress") or "none"))
        owner = _owner(ctx.cwd)
        handed = owner[0] == 0  # Mesa runs as root: the run's user is CONTAINER_UID, for this run only
        user = f"{CONTAINER_UID}:{CONTAINER_UID}" if handed else f"{owner[0]}:{owner[1]}"
        run_dir = Path(tempfile.mkdtemp(prefix=f"mesa-run-{ctx.run_id}-"))
        run_dir.chmod(0o755)
        stdin = runner.stdin(ctx)
        if stdin is not None:  # the prompt, read from a file of the read-only run dir
            (run_dir / "stdin").write_bytes(stdin)
            (run_dir / "stdin").chmod(0o644)
        relays = Relays()
        container = None
        run_git = None
        try:
            # Before the hand-over: the host's git refuses a worktree owned by another user.
            uid, gid = (int(part) for part in user.split(":"))
            run_git = gitdir.prepare(ctx.cwd, run_dir, uid=uid, gid=gid)
            if handed:
                _chown_tree(ctx.cwd, CONTAINER_UID, CONTAINER_UID)
            logins = credentials.stage(list(ctx.extra.get("credential_mounts") or []), run_dir, uid=uid, gid=gid)
            prelude = (_WAIT if plan.endpoints else "") + (credentials.COPY_INTO_HOME if logins else "")
            if prelude or stdin is not None:
                cmd = ["/bin/sh", "-c", prelude + (_EXEC_STDIN if stdin is not None else _EXEC), "mesa-run", *cmd]
            container = self._create(ctx, cmd, env, plan, user, run_dir, run_git)
            return self._follow(container, runner, ctx, sink, plan, relays, run_dir)
        except (_SetupError, RuntimeError) as exc:  # RuntimeError: no engine configured
            return _setup_failure(sink, str(exc))
        finally:
            relays.close()
            if container is not None:
                with contextlib.suppress(Exception):
                    container.remove(force=True)
            if handed:
                _chown_tree(ctx.cwd, *owner)
            if run_git is not None and container is not None:
                _bring_back_commits(run_git, sink)
            shutil.rmtree(run_dir, ignore_errors=True)

    def _create(
        self,
        ctx: RunContext,
        cmd: list[str],
        env: dict[str, str],
        plan: NetworkPlan,
        user: str,
        run_dir: Path,
        run_git: gitdir.RunGit | None = None,
    ) -> Any:
        limits = ctx.extra.get("limits", {})
        volumes = {
            str(ctx.cwd): {"bind": WORKSPACE, "mode": "rw"},
            str(run_dir): {"bind": RUN_DIR, "mode": "ro"},
        }
        if run_git is not None:
            volumes.update(run_git.volumes(WORKSPACE))
        try:
            return self.client.containers.create(
                ctx.extra.get("image") or self.image,
                command=cmd,
                user=user,
                working_dir=WORKSPACE,
                environment=container_env(env),
                volumes=volumes,
                network_mode="none",
                extra_hosts=plan.extra_hosts or None,
                read_only=True,
                tmpfs={HOME: self._home_tmpfs(user), "/tmp": "rw,size=256m"},
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                mem_limit=limits.get("memory", "2g"),
                nano_cpus=int(float(limits.get("cpus", 1.0)) * 1e9),
                pids_limit=int(limits.get("pids", 256)),
                labels=_labels(ctx),
                name=f"mesa-run-{ctx.run_id}-{os.getpid()}-{time.monotonic_ns()}",
            )
        except Exception as exc:
            raise _SetupError(f"could not create the container: {exc}") from exc

    def _follow(
        self,
        container: Any,
        runner: SubprocessRunner,
        ctx: RunContext,
        sink: EventSink,
        plan: NetworkPlan,
        relays: Relays,
        run_dir: Path,
    ) -> Outcome:
        parser = runner.parser(ctx)
        grace = float(ctx.extra.get("kill_grace_s", DEFAULT_KILL_GRACE_S))
        try:
            container.start()
            container.reload()
        except Exception as exc:
            raise _SetupError(f"could not start the container: {exc}") from exc
        pid = int(container.attrs.get("State", {}).get("Pid") or 0)
        if plan.endpoints:
            try:
                for endpoint in plan.endpoints:
                    relays.open(pid, endpoint)
            except RelayError as exc:
                raise _SetupError(f"could not give the container its network: {exc}") from exc
            (run_dir / "ready").touch()
        on_start: Callable[[int], None] | None = getattr(sink, "started", None)
        if callable(on_start):
            on_start(pid)
        lines: queue.Queue[object] = queue.Queue()
        stream = container.logs(stream=True, follow=True, stdout=True, stderr=False)
        threading.Thread(target=_pump, args=(stream, lines), daemon=True).start()
        stdout = _Capped(STDOUT_CAP)
        deadline = time.monotonic() + ctx.timeout_s if ctx.timeout_s and ctx.timeout_s > 0 else None
        stop_reason = ""

        def stop(reason: str) -> None:
            nonlocal stop_reason
            stop_reason = reason
            with contextlib.suppress(Exception):
                container.stop(timeout=max(int(grace), 1))

        streamed = 0

        def take(item: bytes) -> None:
            nonlocal streamed
            streamed += len(item)
            line = item.decode("utf-8", errors="replace")
            stdout.add(line)
            text = line.rstrip("\r\n")
            if text.strip():
                for event in _parse(parser, text):
                    sink.emit(event)
                    if not stop_reason and (asked := sink.should_stop()):
                        stop(asked)
                        break

        eof = False
        next_look = time.monotonic() + EXIT_LOOK_S
        while not eof:
            try:
                item = lines.get(timeout=POLL_S)
            except queue.Empty:
                item = None
            if item is _EOF:
                eof = True
            elif isinstance(item, bytes):
                take(item)
            if not stop_reason:
                if deadline is not None and time.monotonic() >= deadline:
                    stop("timed_out")
                elif item is None and (asked := sink.should_stop()):
                    stop(asked)
            if item is None and time.monotonic() >= next_look:
                # The follow stream should end with the container, but podman's has been seen to stay open
                # after the container exited (a run waited minutes past its timeout). A quiet stream makes
                # us ask the engine itself; what the stream did not deliver is read from the logs below.
                next_look = time.monotonic() + EXIT_LOOK_S
                if _exited(container):
                    break
        status = container.wait(timeout=max(grace, 1.0) + 30)
        exit_code = int(status.get("StatusCode", -1))
        # A follow stream can end before the engine has handed over all of a short-lived container's
        # output (seen with podman when the pids limit is hit): parse what it did not deliver.
        with contextlib.suppress(Exception):
            rest = container.logs(stdout=True, stderr=False)[streamed:]
            for raw in rest.splitlines(keepends=True):
                take(raw)
        stderr_tail = ""
        with contextlib.suppress(Exception):
            stderr_tail = container.logs(stdout=False, stderr=True).decode("utf-8", "replace")[-STDERR_TAIL:]
        return process_outcome(
            exit_code=exit_code,
            stdout=stdout.text(),
            stop_reason=stop_reason,
            stderr_tail=stderr_tail,
            timeout_s=ctx.timeout_s,
            stopped="container stopped",
        )


_podman_engines: dict[str, bool] = {}


def _engine_is_podman(client: Any) -> bool:
    """Whether the engine behind ``client`` is podman (asked once per engine URL)."""
    url = str(getattr(getattr(client, "api", None), "base_url", ""))
    if url not in _podman_engines:
        try:
            components = client.version().get("Components") or []
        except Exception:  # the create call that follows reports an engine that does not answer
            return False
        _podman_engines[url] = any("podman" in str(c.get("Name", "")).lower() for c in components)
    return _podman_engines[url]


def remove_leftovers(client: Any, *, live_run_ids: set[int], instance: str = "") -> list[str]:
    """Remove this Mesa's containers whose run is not in ``live_run_ids`` (start-up recovery); their names.

    Only containers labelled with ``instance`` (this Mesa's :func:`instance_id` by default): another Mesa
    on the same engine keeps its own.
    """
    removed = []
    labels = ["mesa.run", f"mesa.instance={instance or instance_id()}"]
    for container in client.containers.list(all=True, filters={"label": labels}):
        run_id = container.labels.get("mesa.run", "")
        if run_id.isdigit() and int(run_id) in live_run_ids:
            continue
        with contextlib.suppress(Exception):
            container.remove(force=True)
            removed.append(container.name)
    return removed


def _bring_back_commits(run_git: gitdir.RunGit, sink: EventSink) -> None:
    """The agent's commits made inside land on the issue branch; a failure is reported, not fatal."""
    try:
        gitdir.import_commits(run_git)
    except (gitdir.GitImportError, OSError) as exc:
        sink.emit(ParsedEvent("error", {"message": f"the commits made in the container were not kept: {exc}"}))


class _SetupError(Exception):
    """The container could not be set up: the run fails at once with this reason."""


def _setup_failure(sink: EventSink, reason: str) -> Outcome:
    sink.emit(ParsedEvent("error", {"message": reason}, is_error=True))
    return Outcome(exit_code=None, failure_reason=reason, setup_error=True)

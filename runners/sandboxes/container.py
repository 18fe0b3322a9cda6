"""The container sandbox: the runner's command runs in a disposable container (docker SDK, ``DOCKER_HOST``).

Per run: only the run's worktree is mounted (read-write at ``/workspace``); read-only root
filesystem with a tmpfs home and ``/tmp``; all capabilities dropped; ``no-new-privileges``; a
non-root user; cpu, memory and pids limits; no network (``network_mode="none"``); labels
``mesa.run`` / ``mesa.org`` / ``mesa.agent``. stdout goes through the runner's own parser as on the
host. A timeout or a stop asked by the sink kills the container; it is always removed at the end,
and :func:`remove_leftovers` removes containers of runs that are no longer running.

Not yet here (see the report of issue 11): prompts on stdin, the Mesa API through a socket
forwarder, and model-API egress.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
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
    failure_reason,
)

DEFAULT_IMAGE = os.environ.get("MESA_WORKER_IMAGE", "localhost/mesa-worker:latest")
WORKSPACE = "/workspace"
HOME = "/home/mesa"
USER = os.environ.get("MESA_CONTAINER_USER", "1000:1000")
# Host variables that describe the host, not the run: they would be wrong (or leak) inside.
_HOST_ONLY_ENV = frozenset({"PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD", "TMPDIR", "VIRTUAL_ENV"})
_EOF = object()


def docker_client() -> Any:
    """A docker SDK client for ``DOCKER_HOST`` (Docker or podman's API socket)."""
    import docker  # the SDK is only needed by processes that run containers

    return docker.from_env()


def container_env(env: dict[str, str]) -> dict[str, str]:
    inside = {k: v for k, v in env.items() if k not in _HOST_ONLY_ENV}
    inside["HOME"] = HOME
    return inside


def _labels(ctx: RunContext) -> dict[str, str]:
    return {
        "mesa.run": str(ctx.run_id),
        "mesa.org": str(ctx.extra.get("org", "")),
        "mesa.agent": ctx.agent_slug,
    }


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
        self.image = image or DEFAULT_IMAGE

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = docker_client()
        return self._client

    def run(self, runner: SubprocessRunner, ctx: RunContext, sink: EventSink) -> Outcome:
        cmd = runner.command(ctx)
        if not cmd or not cmd[0]:
            return _setup_failure(sink, "no command to run")
        if runner.stdin(ctx) is not None:
            return _setup_failure(sink, "prompts on stdin are not supported in a container yet")
        limits = ctx.extra.get("limits", {})
        try:
            container = self.client.containers.create(
                ctx.extra.get("image") or self.image,
                command=cmd,
                user=USER,
                working_dir=WORKSPACE,
                environment=container_env(ctx.env),
                volumes={str(ctx.cwd): {"bind": WORKSPACE, "mode": "rw"}},
                network_mode="none",
                read_only=True,
                tmpfs={HOME: "rw,size=256m", "/tmp": "rw,size=256m"},
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                mem_limit=limits.get("memory", "2g"),
                nano_cpus=int(float(limits.get("cpus", 1.0)) * 1e9),
                pids_limit=int(limits.get("pids", 256)),
                labels=_labels(ctx),
                name=f"mesa-run-{ctx.run_id}-{os.getpid()}-{time.monotonic_ns()}",
            )
        except Exception as exc:
            return _setup_failure(sink, f"could not create the container: {exc}")
        try:
            return self._follow(container, runner, ctx, sink)
        finally:
            with contextlib.suppress(Exception):
                container.remove(force=True)

    def _follow(self, container: Any, runner: SubprocessRunner, ctx: RunContext, sink: EventSink) -> Outcome:
        parser = runner.parser(ctx)
        grace = float(ctx.extra.get("kill_grace_s", DEFAULT_KILL_GRACE_S))
        container.start()
        on_start: Callable[[int], None] | None = getattr(sink, "started", None)
        if callable(on_start):
            container.reload()
            on_start(int(container.attrs.get("State", {}).get("Pid") or 0))
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
        return Outcome(
            exit_code=exit_code,
            failure_reason=failure_reason(
                stop_reason=stop_reason,
                exit_code=exit_code,
                stderr_tail=stderr_tail,
                timeout_s=ctx.timeout_s,
                stopped="container stopped",
            ),
            stdout=stdout.text(),
            stop_reason=stop_reason,
            stderr_tail=stderr_tail,
        )


def remove_leftovers(client: Any, *, live_run_ids: set[int]) -> list[str]:
    """Remove Mesa's containers whose run is not in ``live_run_ids`` (start-up recovery); their names."""
    removed = []
    for container in client.containers.list(all=True, filters={"label": "mesa.run"}):
        run_id = container.labels.get("mesa.run", "")
        if run_id.isdigit() and int(run_id) in live_run_ids:
            continue
        with contextlib.suppress(Exception):
            container.remove(force=True)
            removed.append(container.name)
    return removed


def _setup_failure(sink: EventSink, reason: str) -> Outcome:
    sink.emit(ParsedEvent("error", {"message": reason}, is_error=True))
    return Outcome(exit_code=None, failure_reason=reason, setup_error=True)

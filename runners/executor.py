"""The shared executor: ``SubprocessRunner`` (the base of the CLI runners) and the loop that runs one CLI.

The dependency goes one way: this module builds on ``runners.base``, the CLI runners build on
this module, and ``runners.base`` imports neither.

Contract of :func:`run_subprocess` (``SubprocessRunner.execute`` calls it):

* ``runner.command(ctx)`` is started with ``cwd=ctx.cwd`` and exactly ``env=ctx.env`` (the
  caller builds the complete environment, ``PATH`` and the ``MESA_*`` variables included), in
  its own session / process group (``start_new_session=True``) so that it and everything it
  spawns can be signalled together.
* ``runner.stdin(ctx)`` is written to stdin (from a thread, so a large prompt cannot deadlock
  against a full stdout pipe) and stdin is closed; ``None`` gives the process ``/dev/null``.
* ``runner.parser(ctx)`` is called once: that fresh parser reads this run's output and holds
  its state (message ids already metered, turn counts...), never the shared runner.
* stdout is read line by line as it arrives; each line (decoded as UTF-8, invalid bytes
  replaced, trailing newline removed) goes through ``parser.parse_line`` and every resulting
  event is passed to ``sink.emit`` in order. A ``parse_line`` that raises is caught: the line
  becomes a ``raw`` event (the run goes on). Empty lines are skipped.
* ``sink.should_stop()`` is asked after every emitted event and at least every ~100 ms; when
  it returns a reason, or when ``ctx.timeout_s`` (> 0) has elapsed (reason ``timed_out``), the
  whole process group gets SIGTERM, then SIGKILL after ``ctx.extra["kill_grace_s"]`` seconds
  (default 5). Once the main process has exited, any process left in its group is killed too:
  a run leaves nothing behind.
* An empty command, a missing working directory, a missing or non-executable binary, or one
  the kernel refuses to start fail at once: nothing runs and the ``Outcome`` has
  ``exit_code=None``, ``setup_error`` and a ``failure_reason`` naming what is wrong.
* The returned ``Outcome`` has the exit code (negative = killed by that signal), the raw
  stdout (capped, head and tail kept; NOT redacted: the caller redacts before storing),
  ``stderr_tail`` (the last few KiB of stderr), ``stop_reason`` ("" or the reason the run was
  stopped: ``timed_out``, ``budget_exceeded``, ``cancelled``...) and ``failure_reason``
  (empty on a clean exit 0; otherwise a human-readable reason). The executor never decides
  the run's final status; the scheduler maps ``stop_reason`` / ``failure_reason`` to it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import IO, ClassVar, Literal

from runners.base import BaseRunner, EventSink, LineParser, Outcome, ParsedEvent, RunContext
from runners.sandboxes.base import sandbox_for

STDOUT_CAP = 2_000_000  # characters of raw stdout kept in the Outcome (head + tail)
STDERR_TAIL = 8_000  # bytes of stderr kept
POLL_S = 0.1
DEFAULT_KILL_GRACE_S = 5.0
_EOF = object()

# Linux caps one argv string at 128 KiB (MAX_ARG_STRLEN); longer prompts go through stdin.
ARGV_PROMPT_MAX = 100_000

PromptVia = Literal["argv", "stdin_when_long", "stdin"]


class SubprocessRunner(BaseRunner):
    """A runner that starts one CLI process and parses its stdout line by line.

    A subclass says which command to start (:meth:`command`), which parser reads one run's
    output (:meth:`parser`, a fresh object per run) and how its CLI takes the prompt:

    * ``prompt_via``: ``"argv"`` (always on the command line), ``"stdin_when_long"`` (on the
      command line, or on stdin when it is longer than ``ARGV_PROMPT_MAX`` bytes, which one
      argv string cannot hold) or ``"stdin"`` (always on stdin);
    * ``prompt_flag``: what precedes the prompt on the command line (``--`` by default, so a
      prompt starting with "-" is not read as an option);
    * ``stdin_args``: what goes on the command line instead when the prompt is on stdin (e.g.
      codex's ``-- -``); nothing by default.

    :meth:`command` puts :meth:`prompt_args` where its CLI expects the prompt; :meth:`stdin`
    then gives the process the prompt, or nothing. The prompt text is :meth:`prompt_text`.
    """

    prompt_via: ClassVar[PromptVia] = "argv"
    prompt_flag: ClassVar[tuple[str, ...]] = ("--",)
    stdin_args: ClassVar[tuple[str, ...]] = ()

    def command(self, ctx: RunContext) -> list[str]:
        raise NotImplementedError

    def parser(self, ctx: RunContext) -> LineParser:
        """A new parser for one run of ``ctx``; it holds that run's parsing state."""
        raise NotImplementedError

    def env(self, ctx: RunContext) -> dict[str, str]:
        """Extra environment variables this runner's CLI needs, merged over ``ctx.env`` by ``execute``."""
        return {}

    def prompt_text(self, ctx: RunContext) -> str:
        """The prompt as this CLI gets it (CLIs without a system-prompt flag put the role in front)."""
        return ctx.prompt

    def prompt_on_stdin(self, ctx: RunContext) -> bool:
        if self.prompt_via == "stdin":
            return True
        if self.prompt_via == "stdin_when_long":
            return len(self.prompt_text(ctx).encode("utf-8")) > ARGV_PROMPT_MAX
        return False

    def prompt_args(self, ctx: RunContext) -> list[str]:
        """The command-line arguments that carry the prompt, or stand for it when it is on stdin."""
        if self.prompt_on_stdin(ctx):
            return list(self.stdin_args)
        return [*self.prompt_flag, self.prompt_text(ctx)]

    def stdin(self, ctx: RunContext) -> bytes | None:
        """What the process reads on stdin: the prompt when it goes there, else nothing (``/dev/null``)."""
        return self.prompt_text(ctx).encode("utf-8") if self.prompt_on_stdin(ctx) else None

    def execute(self, ctx: RunContext, sink: EventSink) -> Outcome:
        extra_env = self.env(ctx)
        if extra_env:
            ctx = replace(ctx, env={**ctx.env, **extra_env})
        # The agent's sandbox (ctx.extra["mesa_sandbox"], set by execution) decides where the process runs;
        # a host run under a pseudo-terminal (ctx.extra["mesa_terminal"]) goes through the host sandbox.
        sandbox = str(ctx.extra.get("mesa_sandbox") or "host")
        if sandbox == "container" and ctx.extra.get("mesa_worker"):
            sandbox = "worker"  # the agent's persistent worker is running: exec into it (runners/sandboxes/worker.py)
        if sandbox == "host" and ctx.extra.get("mesa_terminal") != "pty":
            return run_subprocess(self, ctx, sink)
        return sandbox_for(sandbox).run(self, ctx, sink)


def failure_reason(*, stop_reason: str, exit_code: int | None, stderr_tail: str, timeout_s: int, stopped: str) -> str:
    """Why a run's process ended badly ("" when it did not): a stop, else a non-zero exit with stderr's last line.

    ``stopped`` says what a timeout did (the host kills the process group, a container is stopped).
    """
    if stop_reason == "timed_out":
        return f"timed out after {timeout_s} s; {stopped}"
    if stop_reason:
        return f"stopped: {stop_reason}"
    if exit_code != 0:
        last = next((ln for ln in reversed(stderr_tail.splitlines()) if ln.strip()), "")
        return f"exit code {exit_code}" + (f": {last.strip()[:500]}" if last else "")
    return ""


def process_outcome(
    *, exit_code: int | None, stdout: str, stop_reason: str, stderr_tail: str, timeout_s: int, stopped: str
) -> Outcome:
    """The :class:`Outcome` of a process that ran to its end (or was stopped): its exit code, output, and
    :func:`failure_reason` (``stopped`` says what a timeout did). One construction for every sandbox."""
    return Outcome(
        exit_code=exit_code,
        failure_reason=failure_reason(
            stop_reason=stop_reason,
            exit_code=exit_code,
            stderr_tail=stderr_tail,
            timeout_s=timeout_s,
            stopped=stopped,
        ),
        stdout=stdout,
        stop_reason=stop_reason,
        stderr_tail=stderr_tail,
    )


def resolve_binary(name: str, env: dict[str, str], cwd: Path | None = None) -> str | None:
    """The absolute path of executable ``name`` on ``env["PATH"]`` (or as a path), or None."""
    if os.sep in name:
        path = Path(name)
        if not path.is_absolute() and cwd is not None:
            path = cwd / path
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(name, path=env.get("PATH", os.defpath))


class _Capped:
    """Keeps the head and the tail of a long text, dropping the middle (a single huge line included)."""

    def __init__(self, cap: int) -> None:
        self.half = cap // 2
        self.head: list[str] = []
        self.head_len = 0
        self.tail: deque[str] = deque()
        self.tail_len = 0
        self.dropped = 0

    def add(self, text: str) -> None:
        room = self.half - self.head_len
        if room > 0:
            self.head.append(text[:room])
            self.head_len += min(len(text), room)
            text = text[room:]
            if not text:
                return
        self.tail.append(text)
        self.tail_len += len(text)
        while self.tail_len > self.half:
            excess = self.tail_len - self.half
            first = self.tail[0]
            if len(first) <= excess:
                self.tail.popleft()
                cut = len(first)
            else:
                self.tail[0] = first[excess:]
                cut = excess
            self.tail_len -= cut
            self.dropped += cut

    def text(self) -> str:
        middle = f"\n[... {self.dropped} characters dropped ...]\n" if self.dropped else ""
        return "".join(self.head) + middle + "".join(self.tail)


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _feed_stdin(stream: IO[bytes], data: bytes) -> None:
    try:
        stream.write(data)
    except (BrokenPipeError, OSError):
        pass  # the process stopped reading; its exit code tells the story
    finally:
        with contextlib.suppress(OSError):
            stream.close()


def _read_lines(stream: IO[bytes], out: queue.Queue[object]) -> None:
    try:
        for raw in iter(stream.readline, b""):
            out.put(raw)
    except (OSError, ValueError):
        pass
    finally:
        out.put(_EOF)


def _read_tail(stream: IO[bytes], tail: deque[bytes]) -> None:
    size = 0
    try:
        for chunk in iter(lambda: stream.read1(4096), b""):  # type: ignore[attr-defined]
            tail.append(chunk)
            size += len(chunk)
            while size > STDERR_TAIL and len(tail) > 1:
                size -= len(tail.popleft())
    except (OSError, ValueError):
        pass


def _parse(parser: LineParser, line: str) -> list[ParsedEvent]:
    try:
        return list(parser.parse_line(line))
    except Exception as exc:  # a parser bug must not kill the run
        return [ParsedEvent("raw", {"line": line[:4000], "parse_error": f"{type(exc).__name__}: {exc}"})]


def run_subprocess(runner: SubprocessRunner, ctx: RunContext, sink: EventSink) -> Outcome:
    """Run ``runner``'s command for ``ctx``, streaming parsed events into ``sink`` (see module doc)."""
    cmd = runner.command(ctx)
    if not cmd or not cmd[0]:
        reason = "no command to run (for the command runner, put the command line in the agent's model field)"
        sink.emit(ParsedEvent("error", {"message": reason}, is_error=True))
        return Outcome(exit_code=None, failure_reason=reason, setup_error=True)
    cwd = Path(ctx.cwd)
    if not cwd.is_dir():
        # Popen would say "No such file or directory" and the reason would blame the binary.
        reason = f"working directory {str(cwd)!r} " + ("is not a directory" if cwd.exists() else "does not exist")
        sink.emit(ParsedEvent("error", {"message": reason}, is_error=True))
        return Outcome(exit_code=None, failure_reason=reason, setup_error=True)
    binary = resolve_binary(cmd[0], ctx.env, ctx.cwd)
    if binary is None:
        path = Path(cmd[0]) if os.sep in cmd[0] else None
        if path is not None and not path.is_absolute():
            path = cwd / path
        if path is not None and path.is_file():
            reason = f"{cmd[0]!r} is not executable (chmod +x it)"
        else:
            reason = f"binary not found: {cmd[0]!r} is not installed or not on PATH (see `manage.py doctor`)"
        sink.emit(ParsedEvent("error", {"message": reason}, is_error=True))
        return Outcome(exit_code=None, failure_reason=reason, setup_error=True)
    stdin_data = runner.stdin(ctx)
    parser = runner.parser(ctx)
    grace = float(ctx.extra.get("kill_grace_s", DEFAULT_KILL_GRACE_S))
    try:
        proc = subprocess.Popen(  # the command comes from the runner, not a shell
            [binary, *cmd[1:]],
            cwd=str(ctx.cwd),
            env=ctx.env,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        reason = f"could not start {cmd[0]!r}: {exc.strerror or exc}"
        sink.emit(ParsedEvent("error", {"message": reason}, is_error=True))
        return Outcome(exit_code=None, failure_reason=reason, setup_error=True)
    pgid = proc.pid  # start_new_session: the child leads its own group
    on_start = getattr(sink, "started", None)
    if callable(on_start):
        on_start(proc.pid)

    lines: queue.Queue[object] = queue.Queue()
    err_tail: deque[bytes] = deque()
    threads = []
    assert proc.stdout is not None and proc.stderr is not None
    if stdin_data is not None:
        assert proc.stdin is not None
        threads.append(threading.Thread(target=_feed_stdin, args=(proc.stdin, stdin_data), daemon=True))
    threads.append(threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True))
    threads.append(threading.Thread(target=_read_tail, args=(proc.stderr, err_tail), daemon=True))
    for thread in threads:
        thread.start()

    stdout = _Capped(STDOUT_CAP)
    deadline = time.monotonic() + ctx.timeout_s if ctx.timeout_s and ctx.timeout_s > 0 else None
    stop_reason = ""
    eof = False
    exited_at: float | None = None
    term_sent_at: float | None = None
    killed = False
    killed_at: float | None = None

    def stop(reason: str) -> None:
        nonlocal stop_reason, term_sent_at
        if not stop_reason:
            stop_reason = reason
            term_sent_at = time.monotonic()
            _kill_group(pgid, signal.SIGTERM)

    while not eof:
        try:
            item = lines.get(timeout=POLL_S)
        except queue.Empty:
            item = None
        now = time.monotonic()
        if item is _EOF:
            eof = True
        elif isinstance(item, bytes):
            line = item.decode("utf-8", errors="replace")
            stdout.add(line)
            text = line.rstrip("\r\n")
            if text.strip():
                for event in _parse(parser, text):
                    sink.emit(event)
                    if not stop_reason and (asked := sink.should_stop()):
                        stop(asked)
                        break
        if not stop_reason:
            if deadline is not None and now >= deadline:
                stop("timed_out")
            elif item is None and (asked := sink.should_stop()):
                stop(asked)
        if proc.poll() is not None and exited_at is None:
            exited_at = now
        # Escalate: SIGKILL after the grace period, or when the leader is gone but children keep
        # the pipe open (they would keep the run alive forever).
        if not killed and not eof:
            term_expired = term_sent_at is not None and now - term_sent_at >= grace
            orphans_hold_pipe = exited_at is not None and now - exited_at >= 0.5
            if term_expired or orphans_hold_pipe:
                _kill_group(pgid, signal.SIGKILL)
                killed = True
                killed_at = now
        elif killed and killed_at is not None and now - killed_at >= grace:
            # A process that left the group (setsid) still holds the pipe: stop waiting for its EOF,
            # or the run would stay running forever.
            break

    try:
        exit_code = proc.wait(timeout=max(grace, 1.0))
    except subprocess.TimeoutExpired:
        _kill_group(pgid, signal.SIGKILL)
        exit_code = proc.wait()
    _kill_group(pgid, signal.SIGKILL)  # stragglers that closed stdout but kept running
    for thread in threads[1:]:
        thread.join(timeout=1.0)

    stderr_tail = b"".join(err_tail).decode("utf-8", errors="replace")[-STDERR_TAIL:]
    return process_outcome(
        exit_code=exit_code,
        stdout=stdout.text(),
        stop_reason=stop_reason,
        stderr_tail=stderr_tail,
        timeout_s=ctx.timeout_s,
        stopped="process group killed",
    )

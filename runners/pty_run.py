"""A host run under a pseudo-terminal (agent setting ``terminal = pty``).

Same contract as :func:`runners.executor.run_subprocess` (the parser reads the output line by line,
events go to the sink in order, timeouts and ``should_stop`` stop the whole process group, nothing is
left behind), with these differences, all because the process now has a terminal:

* stdin, stdout and stderr are the PTY's slave side (one merged stream, so ``stderr_tail`` is the
  screen's last lines); the process gets it as its controlling terminal (Ctrl-C from a viewer works) and
  ``TERM=xterm-256color`` unless the environment names one.
* The raw bytes go to the run's terminal stream (``runners.terminal_stream``, bounded) for live viewers
  and replay; the parser gets each line with escape sequences removed and only what a ``\\r`` left on
  screen.
* A prompt on stdin is typed into the terminal, followed by Enter (the terminal echoes it; canonical
  mode cuts a line at 4095 bytes) and no end-of-file follows: the terminal stays the keyboard of
  whoever may drive the run.
* Messages in the run's input FIFO are typed in (keystrokes) or resize the terminal (``TIOCSWINSZ``,
  the process gets ``SIGWINCH``). Keystrokes are recorded as ``terminal_input`` events with who typed
  them, one event per line (or per pause of a second, or per change of typist).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

from runners.base import EventSink, Outcome, ParsedEvent, RunContext
from runners.executor import (
    DEFAULT_KILL_GRACE_S,
    POLL_S,
    STDERR_TAIL,
    STDOUT_CAP,
    SubprocessRunner,
    _Capped,
    _kill_group,
    _parse,
    process_outcome,
    resolve_binary,
)
from runners.terminal_stream import DEFAULT_CAP, StreamWriter, input_path

DEFAULT_COLS, DEFAULT_ROWS = 100, 30
LINE_MAX = 1_000_000  # bytes of one unterminated line before it is parsed anyway
INPUT_IDLE_S = 1.0  # typed text without Enter is recorded after this pause
# CSI (colours, cursor moves), OSC (titles, ended by BEL or ST) and the two-byte escapes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def screen_line(raw: bytes) -> str:
    """One output line as it reads on screen: escapes removed, only what the last ``\\r`` left."""
    text = _ANSI.sub("", raw.decode("utf-8", errors="replace")).rstrip("\r\n")
    parts = [p for p in text.split("\r") if p]
    return parts[-1] if parts else ""


def _controlling_tty() -> None:
    # Runs in the child after start_new_session's setsid(): the PTY (fd 0) becomes its controlling
    # terminal, so Ctrl-C and SIGWINCH reach its foreground group. Only one ioctl: safe after fork.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class _InputLog:
    """Groups keystrokes into ``terminal_input`` events: one per line, pause or typist."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self.by = ""
        self.text = ""
        self.last = 0.0

    def add(self, by: str, text: str, now: float) -> None:
        if self.text and by != self.by:
            self.flush()
        self.by, self.text, self.last = by, self.text + text, now
        if "\r" in text or "\n" in text:
            self.flush()

    def tick(self, now: float) -> None:
        if self.text and now - self.last >= INPUT_IDLE_S:
            self.flush()

    def flush(self) -> None:
        if self.text:
            self.sink.emit(ParsedEvent("terminal_input", {"by": self.by, "text": self.text}))
            self.text = ""


def run_pty(runner: SubprocessRunner, ctx: RunContext, sink: EventSink) -> Outcome:
    """Run ``runner``'s command for ``ctx`` under a PTY (see the module doc)."""
    cmd = runner.command(ctx)
    if not cmd or not cmd[0]:
        reason = "no command to run (for the command runner, put the command line in the agent's model field)"
        sink.emit(ParsedEvent("error", {"message": reason}, is_error=True))
        return Outcome(exit_code=None, failure_reason=reason, setup_error=True)
    binary = resolve_binary(cmd[0], ctx.env, ctx.cwd)
    if binary is None:
        reason = f"binary not found: {cmd[0]!r} is not installed or not on PATH (see `manage.py doctor`)"
        sink.emit(ParsedEvent("error", {"message": reason}, is_error=True))
        return Outcome(exit_code=None, failure_reason=reason, setup_error=True)
    directory = Path(str(ctx.extra.get("terminal_dir") or "var/terminals"))
    writer = StreamWriter(directory, ctx.run_id, int(ctx.extra.get("terminal_cap") or DEFAULT_CAP))
    fifo = input_path(directory, ctx.run_id)
    with contextlib.suppress(FileNotFoundError):
        fifo.unlink()
    os.mkfifo(fifo, 0o600)
    # Our own write end keeps the FIFO open, so a viewer closing it is not an endless end-of-file.
    fifo_r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    fifo_w = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    master, slave = os.openpty()
    set_size(master, DEFAULT_COLS, DEFAULT_ROWS)
    try:
        proc = subprocess.Popen(  # the command comes from the runner, not a shell
            [binary, *cmd[1:]],
            cwd=str(ctx.cwd),
            env={"TERM": "xterm-256color", **ctx.env},
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            preexec_fn=_controlling_tty,
        )
    except OSError as exc:
        for fd in (master, slave, fifo_r, fifo_w):
            os.close(fd)
        fifo.unlink(missing_ok=True)
        writer.close()
        reason = f"could not start {cmd[0]!r}: {exc.strerror or exc}"
        sink.emit(ParsedEvent("error", {"message": reason}, is_error=True))
        return Outcome(exit_code=None, failure_reason=reason, setup_error=True)
    os.close(slave)  # the child holds it; the master reads EIO once every holder is gone
    os.set_blocking(master, False)
    pgid = proc.pid
    on_start = getattr(sink, "started", None)
    if callable(on_start):
        on_start(proc.pid)

    parser = runner.parser(ctx)
    stdin_data = runner.stdin(ctx)
    if stdin_data and not stdin_data.endswith(b"\n"):
        stdin_data += b"\n"  # typed in, so it ends with Enter
    pending = bytearray(stdin_data or b"")  # bytes still to type into the terminal
    inputs = _InputLog(sink)
    stdout = _Capped(STDOUT_CAP)
    line_buf = b""
    fifo_buf = b""
    grace = float(ctx.extra.get("kill_grace_s", DEFAULT_KILL_GRACE_S))
    deadline = time.monotonic() + ctx.timeout_s if ctx.timeout_s and ctx.timeout_s > 0 else None
    stop_reason = ""
    exited_at: float | None = None
    term_sent_at: float | None = None
    killed_at: float | None = None
    eof = False

    def stop(reason: str) -> None:
        nonlocal stop_reason, term_sent_at
        if not stop_reason:
            stop_reason = reason
            term_sent_at = time.monotonic()
            _kill_group(pgid, signal.SIGTERM)

    def feed(raw: bytes) -> None:
        text = screen_line(raw)
        stdout.add(text + "\n")
        if text.strip():
            for event in _parse(parser, text):
                sink.emit(event)
                if not stop_reason and (asked := sink.should_stop()):
                    stop(asked)
                    break

    def control(message: bytes) -> None:
        try:
            obj = json.loads(message)
        except ValueError:
            return
        if not isinstance(obj, dict):
            return
        if isinstance(obj.get("data"), str):
            pending.extend(obj["data"].encode("utf-8"))
            inputs.add(str(obj.get("by") or "?"), obj["data"], time.monotonic())
        elif isinstance(obj.get("cols"), int) and isinstance(obj.get("rows"), int):
            with contextlib.suppress(OSError):
                set_size(master, max(2, obj["cols"]), max(2, obj["rows"]))

    try:
        while not eof:
            readable, writable, _ = select.select([master, fifo_r], [master] if pending else [], [], POLL_S)
            now = time.monotonic()
            if master in readable:
                try:
                    data = os.read(master, 65536)
                except BlockingIOError:
                    data = None
                except OSError:  # EIO: every holder of the slave side is gone
                    data = b""
                if data == b"":
                    eof = True
                elif data:
                    writer.write(data)
                    line_buf += data
                    while b"\n" in line_buf:
                        raw, _, line_buf = line_buf.partition(b"\n")
                        feed(raw)
                    if len(line_buf) > LINE_MAX:
                        feed(line_buf)
                        line_buf = b""
            if fifo_r in readable:
                with contextlib.suppress(BlockingIOError):
                    fifo_buf += os.read(fifo_r, 65536)
                while b"\n" in fifo_buf:
                    message, _, fifo_buf = fifo_buf.partition(b"\n")
                    control(message)
            if pending and master in writable:
                with contextlib.suppress(BlockingIOError, OSError):
                    del pending[: os.write(master, bytes(pending[:4096]))]
            inputs.tick(now)
            if not stop_reason:
                if deadline is not None and now >= deadline:
                    stop("timed_out")
                elif (asked := sink.should_stop()) is not None:
                    stop(asked)
            if proc.poll() is not None and exited_at is None:
                exited_at = now
            # Escalate like the pipe executor: SIGKILL after the grace period, or when the leader is
            # gone but its children keep the terminal open; then stop waiting for them.
            if killed_at is None:
                term_expired = term_sent_at is not None and now - term_sent_at >= grace
                if term_expired or (exited_at is not None and now - exited_at >= 0.5):
                    _kill_group(pgid, signal.SIGKILL)
                    killed_at = now
            elif now - killed_at >= grace:
                break
        if line_buf:
            feed(line_buf)
        inputs.flush()
    finally:
        try:
            exit_code = proc.wait(timeout=max(grace, 1.0))
        except subprocess.TimeoutExpired:
            _kill_group(pgid, signal.SIGKILL)
            exit_code = proc.wait()
        _kill_group(pgid, signal.SIGKILL)
        for fd in (master, fifo_r, fifo_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        fifo.unlink(missing_ok=True)
        writer.close()

    screen = stdout.text()
    stderr_tail = screen[-STDERR_TAIL:]
    return process_outcome(
        exit_code=exit_code,
        stdout=screen,
        stop_reason=stop_reason,
        stderr_tail=stderr_tail,
        timeout_s=ctx.timeout_s,
        stopped="process group killed",
    )

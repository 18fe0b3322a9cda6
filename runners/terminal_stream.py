"""A PTY run's terminal on disk: the raw screen stream (for live viewers and replay) and the input FIFO.

Files of run ``N`` in ``MESA_TERMINALS_DIR`` (default ``var/terminals``):

* ``N.tty``: the raw bytes the process wrote to its terminal (escape sequences included), appended by
  the executor as they arrive. Bounded: when it passes half of ``MESA_TERMINAL_CAP`` bytes it is renamed
  to ``N.tty.1`` (replacing the previous one) and a new ``N.tty`` starts, so at most ``cap`` bytes are
  kept and a replay shows the latest part of a long session.
* ``N.in``: a FIFO the executor reads while the run lives. Each message is one JSON line of at most
  ``PIPE_BUF`` bytes (so writes from several viewers never interleave): ``{"data": "...", "by": "alice"}``
  (keystrokes, recorded in the run's events with who typed them) or ``{"cols": 100, "rows": 30}`` (resize).

Files rather than the channel layer: the executor (the scheduler's worker thread under ``make run``, or a
separate ``manage.py scheduler`` process) and the WebSocket consumer (daphne) may be different processes on
the same machine, and a file needs no broker. Several daphne processes work too (each viewer tails the file);
a scheduler on another machine than daphne does not (the terminal stays empty there; the transcript works).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings

PIPE_BUF = 4096  # a FIFO write up to this size is atomic (POSIX)
INPUT_CHUNK = 500  # characters of keystrokes per message (even fully \u-escaped it stays under PIPE_BUF)
DEFAULT_CAP = 1_000_000


def terminals_dir() -> Path:
    """Where the terminal files live; a relative setting is under the repository root."""
    path = Path(getattr(settings, "MESA_TERMINALS_DIR", "var/terminals"))
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def terminal_cap() -> int:
    return int(getattr(settings, "MESA_TERMINAL_CAP", DEFAULT_CAP))


def stream_path(directory: Path, run_id: int) -> Path:
    return directory / f"{run_id}.tty"


def input_path(directory: Path, run_id: int) -> Path:
    return directory / f"{run_id}.in"


class StreamWriter:
    """Appends a run's terminal bytes, rotating at half the cap (see the module doc)."""

    def __init__(self, directory: Path, run_id: int, cap: int = DEFAULT_CAP) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = stream_path(directory, run_id)
        self.half = max(1024, cap // 2)
        self.file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - kept open for the whole run
        self.size = self.path.stat().st_size

    def write(self, data: bytes) -> None:
        if self.size + len(data) > self.half and self.size:
            self.file.close()
            os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            self.file = open(self.path, "ab", buffering=0)  # noqa: SIM115
            self.size = 0
        self.file.write(data[-self.half :])
        self.size += min(len(data), self.half)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()


class StreamReader:
    """Reads a run's terminal from the start (rotated part first), then follows it as it grows."""

    def __init__(self, directory: Path, run_id: int) -> None:
        self.path = stream_path(directory, run_id)
        self.file: Any = None
        self.pending_old: Path | None = self.path.with_name(self.path.name + ".1")

    def read(self) -> bytes:
        """Everything not yet read (b"" when nothing new, or no stream at all yet)."""
        out = b""
        if self.pending_old is not None:
            with contextlib.suppress(OSError):
                out += self.pending_old.read_bytes()
            self.pending_old = None
        if self.file is None:
            try:
                self.file = open(self.path, "rb")  # noqa: SIM115 - followed until close()
            except OSError:
                return out
        out += self.file.read()
        try:
            rotated = os.stat(self.path).st_ino != os.fstat(self.file.fileno()).st_ino
        except OSError:
            rotated = False
        if rotated:  # the writer started a new file: finish the old one, then follow the new
            out += self.file.read()
            self.file.close()
            self.file = None
            with contextlib.suppress(OSError):
                self.file = open(self.path, "rb")  # noqa: SIM115
                out += self.file.read()
        return out

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def send_control(directory: Path, run_id: int, message: dict[str, Any]) -> bool:
    """Write one message into the run's input FIFO; False when no live run reads it."""
    line = (json.dumps(message, separators=(",", ":")) + "\n").encode()
    if len(line) > PIPE_BUF:
        raise ValueError("terminal message too long")
    try:
        fd = os.open(input_path(directory, run_id), os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.ENOENT):  # the run is not running (any more)
            return False
        raise
    try:
        os.write(fd, line)
    except BlockingIOError:
        return False  # the executor is not reading: drop rather than block the web process
    finally:
        os.close(fd)
    return True


def send_input(directory: Path, run_id: int, data: str, by: str) -> bool:
    ok = True
    for start in range(0, len(data), INPUT_CHUNK):
        ok = send_control(directory, run_id, {"data": data[start : start + INPUT_CHUNK], "by": by[:100]}) and ok
    return ok


def send_resize(directory: Path, run_id: int, cols: int, rows: int) -> bool:
    return send_control(directory, run_id, {"cols": max(2, min(cols, 1000)), "rows": max(2, min(rows, 500))})

"""Shared driver of the fake agent CLIs in this directory (claude, codex, copilot, gemini, opencode).

Each fake prints the REAL stream format of its CLI (shapes copied from runs of the real
binaries, see /work/shared/reference/environment.md) and is steered by environment variables:

* ``FAKE_CLI_SCENARIO``: ``ok`` (default; alias ``tool_write``): init, text, a tool call that
  writes ``FAKE_CLI_FILE`` (default ``fake-output.txt``) into the cwd, its result, a final text,
  and the result/usage with the known figures below; ``long_stream``: a message with usage every
  ``FAKE_CLI_INTERVAL`` seconds (default 0.02) for ``FAKE_CLI_MESSAGES`` messages (default 5000),
  so a budget is crossed long before the end (``FAKE_CLI_STOP_AT=n``: after the n-th message it
  waits 60 s before each next one, so a test sees Mesa stop it there, whatever the machine's load);
  ``crash``: some output, a line on stderr, exit 1
  (claude: no stderr, an API error message and a ``result`` line with ``is_error: true``);
  ``hang``: init, then a grandchild ``sleep`` and the fake itself sleep forever (the grandchild's
  pid goes to ``FAKE_CLI_PIDFILE`` when set); ``garbage``: non-JSON lines and unknown JSON mixed
  into the ``ok`` flow.
* ``FAKE_CLI_LOG``: when set, the argv, cwd and a few environment variables are written there
  as JSON (tests assert the command line Mesa built).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

Line = dict[str, Any] | str  # a str is printed as is (garbage)


def scenario() -> str:
    value = os.environ.get("FAKE_CLI_SCENARIO", "ok")
    return "ok" if value == "tool_write" else value


def target_file() -> str:
    return os.environ.get("FAKE_CLI_FILE", "fake-output.txt")


def write_target(cli: str) -> str:
    content = f"made-by-{cli}\n"
    with open(target_file(), "w", encoding="utf-8") as fh:
        fh.write(content)
    return content


def emit(line: Line) -> None:
    sys.stdout.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    sys.stdout.flush()


_stdin: str | None = None


def stdin_text() -> str:
    """Everything piped to stdin ("" for a terminal or /dev/null); read once, then remembered."""
    global _stdin
    if _stdin is None:
        _stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    return _stdin


def log_invocation(cli: str) -> None:
    path = os.environ.get("FAKE_CLI_LOG")
    if not path:
        return
    keep = ("IS_SANDBOX", "GEMINI_CLI_TRUST_WORKSPACE", "MESA_RUN_ID", "MESA_API_URL", "HOME", "OPENAI_API_KEY")
    stdin = stdin_text()
    record = {
        "cli": cli,
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "env": {k: os.environ.get(k) for k in keep},
        "stdin": stdin,
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(record, fh)


def hang(first: list[Line]) -> None:
    for line in first:
        emit(line)
    child = subprocess.Popen(["sleep", "1000"])  # a grandchild that must be killed too
    pidfile = os.environ.get("FAKE_CLI_PIDFILE")
    if pidfile:
        with open(pidfile, "w", encoding="utf-8") as fh:
            fh.write(str(child.pid))
    while True:
        time.sleep(60)


def crash(first: list[Line], last: list[Line] | None = None) -> None:
    """Exit 1 after ``first``. With ``last`` (claude: an error message and a ``result`` with
    ``is_error: true``) the CLI says why on stdout and nothing on stderr, as the real claude does."""
    for line in first:
        emit(line)
    if last:
        for line in last:
            emit(line)
    else:
        sys.stderr.write("fatal: the fake CLI crashed on purpose\n")
        sys.stderr.flush()
    sys.exit(1)


def garbage(lines: Iterator[Line]) -> None:
    junk: list[Line] = [
        "Loading configuration...",
        "\x1b[33mwarning:\x1b[0m something odd",
        '{"type": "mystery_event", "x": 1}',
        "[1, 2, 3]",
        '{"truncated": ',
        "null",
    ]
    for i, line in enumerate(lines):
        if i < len(junk):
            emit(junk[i])
        emit(line)


def long_stream(make: Callable[[int], list[Line]], first: list[Line]) -> None:
    count = int(os.environ.get("FAKE_CLI_MESSAGES", "5000"))
    interval = float(os.environ.get("FAKE_CLI_INTERVAL", "0.02"))
    for line in first:
        emit(line)
    # From message FAKE_CLI_STOP_AT on (the one that crosses the test's budget), wait for Mesa's signal
    # rather than racing the clock: 60 s before each further message.
    stop_at = int(os.environ.get("FAKE_CLI_STOP_AT", "0"))
    for i in range(count):
        for line in make(i):
            emit(line)
        time.sleep(60 if stop_at and i + 1 >= stop_at else interval)


def run(
    cli: str,
    ok: Callable[[], Iterator[Line]],
    first: list[Line],
    make_long: Callable[[int], list[Line]],
    crash_last: list[Line] | None = None,
) -> None:
    log_invocation(cli)
    mode = scenario()
    if mode == "ok":
        for line in ok():
            emit(line)
    elif mode == "garbage":
        garbage(ok())
    elif mode == "crash":
        crash(first, crash_last)
    elif mode == "hang":
        hang(first)
    elif mode == "long_stream":
        long_stream(make_long, first)
    else:
        sys.stderr.write(f"unknown FAKE_CLI_SCENARIO {mode!r}\n")
        sys.exit(2)

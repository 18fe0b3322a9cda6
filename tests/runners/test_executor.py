from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from runners import executor
from runners.base import ParsedEvent, RunContext
from runners.executor import SubprocessRunner, run_subprocess
from tests.processes import process_gone
from tests.runners.conftest import script


class LineParser:
    """Each stdout line is a text event; a line "BOOM" makes the parser raise."""

    def parse_line(self, line: str) -> list[ParsedEvent]:
        if line == "BOOM":
            raise ValueError("cannot parse")
        return [ParsedEvent("text", {"text": line})]


class LineRunner(SubprocessRunner):
    name = "line"

    def __init__(self, argv: list[str], stdin: bytes | None = None) -> None:
        self.argv = argv
        self._stdin = stdin

    def command(self, ctx: RunContext) -> list[str]:
        return self.argv

    def stdin(self, ctx: RunContext) -> bytes | None:
        return self._stdin

    def parser(self, ctx: RunContext) -> LineParser:
        return LineParser()


class ListSink:
    def __init__(self, stop_after: int | None = None, on_emit: Path | None = None) -> None:
        self.events: list[ParsedEvent] = []
        self.stop_after = stop_after
        self.on_emit = on_emit
        self.pid: int | None = None

    def emit(self, event: ParsedEvent) -> None:
        self.events.append(event)
        if self.on_emit is not None:
            self.on_emit.write_text(str(len(self.events)))

    def should_stop(self) -> str | None:
        if self.stop_after is not None and len(self.events) >= self.stop_after:
            return "budget_exceeded"
        return None

    def started(self, pid: int) -> None:
        self.pid = pid

    @property
    def texts(self) -> list[str]:
        return [e.data.get("text", "") for e in self.events]


def ctx(tmp_path: Path, timeout_s: int = 30, **env: str) -> RunContext:
    return RunContext(
        run_id=1,
        agent_slug="a",
        model="m",
        prompt="the prompt",
        system_prompt="",
        cwd=tmp_path,
        env={**os.environ, **env},
        timeout_s=timeout_s,
        max_turns=1,
        extra={"kill_grace_s": 1},
    )


def test_it_streams_each_line_to_the_sink_while_the_process_runs(tmp_path: Path) -> None:
    marker = tmp_path / "emitted"
    cli = script(
        tmp_path,
        "stream",
        f"""
        import os, sys, time
        print("first", flush=True)
        # Only continues once Mesa has handled the first line: proves it is read as it comes.
        for _ in range(500):
            if os.path.exists({str(marker)!r}):
                break
            time.sleep(0.01)
        else:
            print("never saw the first event handled", flush=True)
            sys.exit(3)
        print("second", flush=True)
        """,
    )
    sink = ListSink(on_emit=marker)
    outcome = run_subprocess(LineRunner([str(cli)]), ctx(tmp_path), sink)
    assert sink.texts == ["first", "second"]
    assert outcome.exit_code == 0 and outcome.failure_reason == "" and outcome.stop_reason == ""
    assert outcome.stdout == "first\nsecond\n"


def test_it_passes_stdin_cwd_and_env(tmp_path: Path) -> None:
    cli = script(
        tmp_path, "echo", "import os, sys\nprint(sys.stdin.read())\nprint(os.getcwd())\nprint(os.environ['X_TEST'])\n"
    )
    sink = ListSink()
    run_subprocess(LineRunner([str(cli)], stdin=b"hello prompt"), ctx(tmp_path, X_TEST="yes"), sink)
    assert sink.texts == ["hello prompt", str(tmp_path), "yes"]


def test_it_keeps_an_unparseable_line_as_a_raw_event(tmp_path: Path) -> None:
    sink = ListSink()
    outcome = run_subprocess(LineRunner(["sh", "-c", "echo BOOM; echo ok"]), ctx(tmp_path), sink)
    assert [e.type for e in sink.events] == ["raw", "text"]
    assert sink.events[0].data["line"] == "BOOM" and "ValueError" in sink.events[0].data["parse_error"]
    assert outcome.exit_code == 0


def test_it_reports_a_nonzero_exit_with_the_stderr_tail(tmp_path: Path) -> None:
    sink = ListSink()
    outcome = run_subprocess(LineRunner(["sh", "-c", "echo bad thing >&2; exit 7"]), ctx(tmp_path), sink)
    assert outcome.exit_code == 7
    assert outcome.failure_reason == "exit code 7: bad thing"
    assert outcome.stderr_tail == "bad thing\n"


def test_it_fails_at_once_when_the_binary_is_missing(tmp_path: Path) -> None:
    sink = ListSink()
    outcome = run_subprocess(LineRunner(["definitely-not-installed-cli"]), ctx(tmp_path), sink)
    assert outcome.exit_code is None
    assert "definitely-not-installed-cli" in outcome.failure_reason and "not found" in outcome.failure_reason
    assert sink.events[0].type == "error" and sink.pid is None


def test_it_stops_the_process_group_when_the_sink_asks_and_kills_after_the_grace(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    cli = script(
        tmp_path,
        "stubborn",
        f"""
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # ignores SIGTERM: needs SIGKILL
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        for i in range(1000):
            print(f"message {{i}}", flush=True)
            time.sleep(0.05)
        """,
    )
    sink = ListSink(stop_after=2)
    outcome = run_subprocess(LineRunner([str(cli)]), ctx(tmp_path), sink)
    assert outcome.stop_reason == "budget_exceeded"
    assert outcome.exit_code == -9  # SIGTERM ignored, SIGKILL after the grace period
    assert sink.pid is not None and process_gone(sink.pid)
    assert process_gone(int(pidfile.read_text()))


def test_it_times_out_and_reports_it(tmp_path: Path) -> None:
    sink = ListSink()
    outcome = run_subprocess(LineRunner([sys.executable, "-c", "import time; time.sleep(60)"]), ctx(tmp_path, 1), sink)
    assert outcome.stop_reason == "timed_out"
    assert outcome.exit_code == -15
    assert "timed out after 1 s" in outcome.failure_reason


def test_it_kills_children_left_behind_when_the_main_process_exits(tmp_path: Path) -> None:
    pidfile = tmp_path / "bg.pid"
    sink = ListSink()
    outcome = run_subprocess(
        LineRunner(["sh", "-c", f"sleep 300 & echo $! > {pidfile}; echo done"]), ctx(tmp_path), sink
    )
    assert outcome.exit_code == 0 and sink.texts == ["done"]
    assert process_gone(int(pidfile.read_text()))


def test_it_returns_even_when_an_escaped_process_keeps_the_pipe_open(tmp_path: Path) -> None:
    import signal
    import threading

    pidfile = tmp_path / "escaped.pid"
    # `setsid` leaves the process group, so the group kill cannot reach it, and it inherits stdout.
    script = f"setsid sleep 300 & echo $! > {pidfile}; echo started; sleep 300"
    sink = ListSink()
    result: dict[str, object] = {}
    worker = threading.Thread(
        target=lambda: result.update(outcome=run_subprocess(LineRunner(["sh", "-c", script]), ctx(tmp_path, 1), sink))
    )
    worker.start()
    worker.join(timeout=30)
    try:
        assert not worker.is_alive(), "the run never ended: it waited for an EOF that could not come"
        outcome = result["outcome"]
        assert getattr(outcome, "stop_reason", None) == "timed_out" and sink.texts == ["started"]
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_it_keeps_the_head_and_tail_of_stdout_past_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor, "STDOUT_CAP", 1_000)
    sink = ListSink()
    outcome = run_subprocess(
        LineRunner([sys.executable, "-c", "for i in range(500): print(f'line {i:04}')"]), ctx(tmp_path), sink
    )
    assert len(sink.events) == 500  # every line is still parsed; only the stored copy is capped
    assert outcome.stdout.startswith("line 0000\nline 0001\n")
    assert outcome.stdout.endswith("line 0498\nline 0499\n")
    assert "characters dropped" in outcome.stdout and "line 0250" not in outcome.stdout
    assert len(outcome.stdout) <= 1_000 + 100  # the cap plus the marker line


def test_it_caps_one_huge_stdout_line_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executor, "STDOUT_CAP", 1_000)
    sink = ListSink()
    outcome = run_subprocess(
        LineRunner([sys.executable, "-c", "print('a' * 50_000 + 'END'); print('after')"]), ctx(tmp_path), sink
    )
    assert sink.texts == ["a" * 50_000 + "END", "after"]
    assert len(outcome.stdout) <= 1_000 + 100
    assert outcome.stdout.startswith("aaaa") and outcome.stdout.endswith("END\nafter\n")
    assert "characters dropped" in outcome.stdout


def test_it_keeps_only_the_tail_of_a_long_stderr(tmp_path: Path) -> None:
    sink = ListSink()
    code = (
        "import sys\nfor i in range(5000): print(f'noise {i:05}', file=sys.stderr)\n"
        "print('the real error', file=sys.stderr)\nsys.exit(3)"
    )
    outcome = run_subprocess(LineRunner([sys.executable, "-c", code]), ctx(tmp_path), sink)
    assert len(outcome.stderr_tail) <= executor.STDERR_TAIL
    assert outcome.stderr_tail.endswith("noise 04999\nthe real error\n")
    assert "noise 00000" not in outcome.stderr_tail
    assert outcome.failure_reason == "exit code 3: the real error"


def test_it_replaces_invalid_utf8_in_stdout_and_stderr_and_goes_on(tmp_path: Path) -> None:
    sink = ListSink()
    code = (
        "import sys\n"
        "sys.stdout.buffer.write(b'bad \\xff\\xfe bytes\\n'); sys.stdout.flush()\n"
        "sys.stderr.buffer.write(b'err \\xc3\\n')\n"
        "print('still here')\nsys.exit(1)"
    )
    outcome = run_subprocess(LineRunner([sys.executable, "-c", code]), ctx(tmp_path), sink)
    assert sink.texts == ["bad \ufffd\ufffd bytes", "still here"]
    assert outcome.stdout == "bad \ufffd\ufffd bytes\nstill here\n"
    assert outcome.stderr_tail == "err \ufffd\n" and outcome.failure_reason == "exit code 1: err \ufffd"


@pytest.mark.parametrize("argv", [[], [""]])
def test_it_refuses_an_empty_command_without_starting_anything(tmp_path: Path, argv: list[str]) -> None:
    sink = ListSink()
    outcome = run_subprocess(LineRunner(argv), ctx(tmp_path), sink)
    assert outcome.exit_code is None and outcome.setup_error
    assert "no command to run" in outcome.failure_reason
    assert [e.type for e in sink.events] == ["error"] and sink.pid is None


def test_it_says_a_file_that_is_not_executable_is_not_executable(tmp_path: Path) -> None:
    cli = tmp_path / "not-exec"
    cli.write_text("#!/bin/sh\necho hi\n")
    cli.chmod(0o644)
    sink = ListSink()
    outcome = run_subprocess(LineRunner([str(cli)]), ctx(tmp_path), sink)
    assert outcome.exit_code is None and outcome.setup_error and sink.pid is None
    assert str(cli) in outcome.failure_reason and "not executable" in outcome.failure_reason


def test_it_reports_a_binary_the_kernel_cannot_start(tmp_path: Path) -> None:
    cli = tmp_path / "garbage"
    cli.write_bytes(b"\x00\x01\x02 not a program")
    cli.chmod(0o755)
    sink = ListSink()
    outcome = run_subprocess(LineRunner([str(cli)]), ctx(tmp_path), sink)
    assert outcome.exit_code is None and outcome.setup_error and sink.pid is None
    assert outcome.failure_reason == f"could not start {str(cli)!r}: Exec format error"
    assert sink.events[0].type == "error" and sink.events[0].data["message"] == outcome.failure_reason


def test_it_names_a_missing_working_directory_not_the_binary(tmp_path: Path) -> None:
    sink = ListSink()
    missing = tmp_path / "gone"
    outcome = run_subprocess(LineRunner(["sh", "-c", "echo hi"]), ctx(missing), sink)
    assert outcome.exit_code is None and outcome.setup_error and sink.pid is None
    assert outcome.failure_reason == f"working directory {str(missing)!r} does not exist"

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from runners.base import Outcome, RunContext
from runners.command import CommandRunner
from runners.terminal_stream import StreamReader, send_input, send_resize, stream_path
from tests.runners.test_executor import ListSink


def ctx(tmp_path: Path, command: str, timeout_s: int = 30, cap: int = 1_000_000) -> RunContext:
    return RunContext(
        run_id=7,
        agent_slug="a",
        model=command,
        prompt="the prompt",
        system_prompt="",
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        timeout_s=timeout_s,
        max_turns=1,
        extra={
            "kill_grace_s": 1,
            "mesa_sandbox": "host",
            "mesa_terminal": "pty",
            "terminal_dir": str(tmp_path / "terms"),
            "terminal_cap": cap,
        },
    )


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def start(context: RunContext, sink: ListSink) -> tuple[threading.Thread, list[Outcome]]:
    out: list[Outcome] = []
    thread = threading.Thread(target=lambda: out.append(CommandRunner().execute(context, sink)), daemon=True)
    thread.start()
    return thread, out


def test_it_runs_the_process_on_a_terminal_and_parses_the_screen_lines(tmp_path: Path) -> None:
    context = ctx(
        tmp_path, "sh -c 'test -t 1 && echo on-a-tty; printf \"\\033[1mbold\\033[0m\\n\"; read x; echo got:$x'"
    )
    outcome = CommandRunner().execute(context, sink := ListSink())
    assert outcome.exit_code == 0 and outcome.failure_reason == ""
    assert "on-a-tty" in sink.texts and "bold" in sink.texts
    assert "got:the prompt" in sink.texts  # the prompt was typed into the terminal
    raw = stream_path(tmp_path / "terms", 7).read_bytes()
    assert b"\x1b[1mbold\x1b[0m" in raw  # the raw stream keeps the escapes for replay
    assert not (tmp_path / "terms" / "7.in").exists()  # the input FIFO is gone with the run


def test_it_types_viewer_input_records_who_typed_it_and_resizes(tmp_path: Path) -> None:
    context = ctx(tmp_path, "sh -c 'read a; echo first:$a; read b; stty size; read c; echo bye'")
    sink = ListSink()
    thread, out = start(context, sink)
    terms = tmp_path / "terms"
    wait_for(lambda: "first:the prompt" in sink.texts)
    assert send_resize(terms, 7, cols=77, rows=22)
    assert send_input(terms, 7, "go\r", by="alice")
    wait_for(lambda: "22 77" in sink.texts)
    assert send_input(terms, 7, "x\r", by="bob")
    thread.join(10)
    assert out[0].exit_code == 0
    typed = [(e.data["by"], e.data["text"]) for e in sink.events if e.type == "terminal_input"]
    assert typed == [("alice", "go\r"), ("bob", "x\r")]
    assert send_input(terms, 7, "late", by="alice") is False  # no run reads the FIFO any more


def test_it_stops_on_timeout_and_keeps_the_stream_within_its_cap(tmp_path: Path) -> None:
    context = ctx(tmp_path, "sh -c 'yes 0123456789'", timeout_s=1, cap=20_000)
    outcome = CommandRunner().execute(context, ListSink())
    assert outcome.stop_reason == "timed_out"
    terms = tmp_path / "terms"
    sizes = [p.stat().st_size for p in terms.glob("7.tty*")]
    assert len(sizes) == 2 and sum(sizes) <= 20_000
    replay = StreamReader(terms, 7).read()
    assert replay.endswith(b"0123456789\r\n") or b"0123456789" in replay[-40:]


def test_it_makes_the_terminal_the_controlling_one_so_ctrl_c_interrupts(tmp_path: Path) -> None:
    context = ctx(tmp_path, "sh -c 'echo ready; exec sleep 30'")
    sink = ListSink()
    thread, out = start(context, sink)
    wait_for(lambda: "ready" in sink.texts)
    assert send_input(tmp_path / "terms", 7, "\x03", by="alice")
    thread.join(10)
    assert out[0].exit_code == -2 and out[0].stop_reason == ""  # SIGINT from the terminal, not a Mesa stop

"""The contracts every runner shares: a fresh parser per run, prompt delivery, tool events, pricing in the sink."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from runners import pricing
from runners.base import ParsedEvent, RunContext, Usage, tool_result, tool_use
from runners.claude_code import ClaudeCodeRunner
from runners.codex import CodexRunner
from runners.command import CommandRunner
from runners.copilot import CopilotRunner
from runners.executor import ARGV_PROMPT_MAX, SubprocessRunner
from runners.gemini import GeminiRunner
from runners.opencode import OpenCodeRunner
from runners.registry import RUNNERS, runner_for
from runners.sink import Meter
from tests.runners.cli_support import RecordingSink, make_ctx

CLI_RUNNERS: list[type[SubprocessRunner]] = [
    ClaudeCodeRunner,
    CodexRunner,
    GeminiRunner,
    OpenCodeRunner,
    CopilotRunner,
]


def _claude_line(msg_id: str, usage: dict[str, int]) -> str:
    message = {"id": msg_id, "model": "claude-sonnet-4-5", "content": [{"type": "text", "text": "hi"}], "usage": usage}
    return json.dumps({"type": "assistant", "message": message})


# --- a fresh parser per run -----------------------------------------------------------


def test_it_keeps_no_run_state_on_a_runner_instance(tmp_path: Path) -> None:
    for name in RUNNERS:
        runner = runner_for(name)
        if isinstance(runner, SubprocessRunner):
            ctx = make_ctx(tmp_path, model="gpt-5")
            runner.command(ctx)
            runner.stdin(ctx)
            runner.parser(ctx).parse_line('{"type": "anything"}')
        assert vars(runner) == {}, name


def test_it_gives_two_runs_on_one_runner_their_own_parsing_state(tmp_path: Path) -> None:
    runner = ClaudeCodeRunner()  # shared, as the registry's instances are
    first, second = runner.parser(make_ctx(tmp_path)), runner.parser(make_ctx(tmp_path))
    line = _claude_line("msg_1", {"input_tokens": 10, "output_tokens": 5})
    # The two runs interleave: each meters message msg_1 once, for itself.
    assert first.parse_line(line)[0].usage is not None
    assert second.parse_line(line)[0].usage is not None
    assert first.parse_line(line)[0].usage is None
    assert second.parse_line(line)[0].usage is None

    codex = CodexRunner()
    one, two = codex.parser(make_ctx(tmp_path)), codex.parser(make_ctx(tmp_path))
    turn = '{"type":"turn.completed","usage":{"input_tokens":10,"output_tokens":1}}'
    assert [one.parse_line(turn)[0].data["num_turns"] for _ in range(2)] == [1, 2]
    assert two.parse_line(turn)[0].data["num_turns"] == 1


def test_it_runs_one_runner_twice_with_the_same_totals(tmp_path: Path) -> None:
    runner = ClaudeCodeRunner()
    totals = []
    for i in range(2):
        cwd = tmp_path / str(i)
        cwd.mkdir()
        sink = RecordingSink()
        assert runner.execute(make_ctx(cwd), sink).exit_code == 0
        totals.append(sink.metered.tokens_total)
    assert totals == [420, 420]  # msg_fake_1 (two lines) counted once in each run


# --- prompt delivery ------------------------------------------------------------------

# (runner, what precedes the prompt on argv, what stands for it on argv when it is on stdin)
DELIVERY = [
    (ClaudeCodeRunner, ["--"], []),
    (CodexRunner, ["--"], ["--", "-"]),
    (GeminiRunner, ["-p"], ["-p", "Carry out the task given on standard input."]),
    (OpenCodeRunner, ["--"], []),
    (CopilotRunner, ["-p"], []),
]


@pytest.mark.parametrize(("cls", "flag", "on_stdin"), DELIVERY, ids=[c.__name__ for c, _, _ in DELIVERY])
def test_it_passes_a_short_prompt_on_argv_and_a_long_one_on_stdin(
    cls: type[SubprocessRunner], flag: list[str], on_stdin: list[str], tmp_path: Path
) -> None:
    runner = cls()
    short = make_ctx(tmp_path, prompt="-a task")
    argv = runner.command(short)
    assert argv[-1 - len(flag) :] == [*flag, runner.prompt_text(short)] and "-a task" in argv[-1]
    assert runner.stdin(short) is None

    long = make_ctx(tmp_path, prompt="a long task " + "x" * ARGV_PROMPT_MAX)
    argv = runner.command(long)
    assert argv[len(argv) - len(on_stdin) :] == on_stdin
    assert all(len(arg.encode()) <= ARGV_PROMPT_MAX for arg in argv)  # the prompt is on no argument
    assert runner.stdin(long) == runner.prompt_text(long).encode()
    assert long.prompt in runner.prompt_text(long)


def test_it_keeps_an_argv_only_prompt_on_argv_and_a_stdin_prompt_on_stdin(tmp_path: Path) -> None:
    class ArgvOnly(SubprocessRunner):
        name = "argv_only"

        def command(self, ctx: RunContext) -> list[str]:
            return ["tool", *self.prompt_args(ctx)]

    long = make_ctx(tmp_path, prompt="y" * (ARGV_PROMPT_MAX + 1))
    assert ArgvOnly().command(long) == ["tool", "--", long.prompt] and ArgvOnly().stdin(long) is None
    short = make_ctx(tmp_path, prompt="hi", model="my-agent --fast")
    assert CommandRunner().command(short) == ["my-agent", "--fast"]
    assert CommandRunner().stdin(short) == b"You are the backend engineer.\n\nhi"


# --- tool events ----------------------------------------------------------------------


def test_it_builds_tool_events_in_one_shape() -> None:
    call = tool_use(call_id="t1", name="Bash", args={"command": "ls"})
    assert (call.type, call.data, call.is_error) == (
        "tool_use",
        {"id": "t1", "name": "Bash", "input": {"command": "ls"}},
        False,
    )
    ok = tool_result(call_id="t1", content="a.txt\n")
    assert (ok.type, ok.data, ok.is_error) == (
        "tool_result",
        {"tool_use_id": "t1", "content": "a.txt\n", "is_error": False},
        False,
    )
    failed = tool_result(call_id="t1", content="boom", is_error=True, exit_code=2)
    assert failed.is_error and failed.data == {"tool_use_id": "t1", "content": "boom", "is_error": True, "exit_code": 2}


@pytest.mark.parametrize("cls", CLI_RUNNERS, ids=[c.__name__ for c in CLI_RUNNERS])
def test_it_gets_the_same_tool_event_shape_from_every_cli(cls: type[SubprocessRunner], tmp_path: Path) -> None:
    sink = RecordingSink()
    assert cls().execute(make_ctx(tmp_path, model="gpt-5"), sink).exit_code == 0
    calls, results = sink.of_type("tool_use"), sink.of_type("tool_result")
    assert calls and results
    assert all(set(e.data) == {"id", "name", "input"} for e in calls)
    assert all({"tool_use_id", "content", "is_error"} <= set(e.data) for e in results)
    assert all(isinstance(e.data["content"], str) and e.data["is_error"] == e.is_error for e in results)
    assert {e.data["tool_use_id"] for e in results} <= {e.data["id"] for e in calls}


# --- pricing: in the sink, once -------------------------------------------------------


@pytest.mark.parametrize("cls", CLI_RUNNERS, ids=[c.__name__ for c in CLI_RUNNERS])
def test_it_leaves_pricing_to_the_sink(cls: type[SubprocessRunner], tmp_path: Path, monkeypatch: Any) -> None:
    events: list[ParsedEvent] = []

    class Collect:
        def emit(self, event: ParsedEvent) -> None:
            events.append(event)

        def should_stop(self) -> str | None:
            return None

    def refuse(*args: Any) -> Any:
        raise AssertionError("a runner priced tokens; only the sink may")

    for name in ("price", "price_for", "is_priced"):
        monkeypatch.setattr(pricing, name, refuse)
    assert cls().execute(make_ctx(tmp_path, model="gpt-5"), Collect()).exit_code == 0
    assert not [e for e in events if "parse_error" in e.data]  # a parser that priced would have raised
    assert [e for e in events if e.usage is not None or e.final is not None]


def test_it_prices_each_usage_once_when_it_arrives(monkeypatch: Any) -> None:
    calls: list[str] = []
    real = pricing.price

    def counting(model: str, usage: Usage) -> Decimal:
        calls.append(model)
        return real(model, usage)

    monkeypatch.setattr(pricing, "price", counting)
    meter = Meter("gpt-5")
    first = meter.add(Usage(tokens_in=1_000_000))  # the run's model
    second = meter.add(Usage(tokens_out=1_000_000, model="claude-sonnet-4-5"))  # the model it names
    stated = meter.add(Usage(tokens_in=5, cost_usd=Decimal("0.5")))  # the CLI's own cost stays
    assert (first.cost_usd, second.cost_usd, stated.cost_usd) == (Decimal("1.25"), Decimal(15), Decimal("0.5"))
    assert calls == ["gpt-5", "claude-sonnet-4-5"]
    for _ in range(3):
        assert meter.usage.cost_usd == Decimal("16.75")  # reading the totals prices nothing
    assert len(calls) == 2

    # A final without a cost that counts the deltas' tokens takes their (per-model) cost, unpriced again.
    final = meter.set_final(Usage(tokens_in=1_000_005, tokens_out=1_000_000))
    assert final.cost_usd == Decimal("16.75") and len(calls) == 2
    # Other totals are priced once, with the run's model.
    assert meter.set_final(Usage(tokens_in=2_000_000)).cost_usd == Decimal("2.5") and calls[2:] == ["gpt-5"]


def test_it_prices_a_model_the_table_does_not_know_with_the_runs_model() -> None:
    assert Meter("gpt-5").add(Usage(tokens_in=1_000_000, model="llama3.1:8b")).cost_usd == Decimal("1.25")
    assert Meter("llama3.1:8b").add(Usage(tokens_in=1_000_000)).cost_usd == Decimal(0)  # unknown: free

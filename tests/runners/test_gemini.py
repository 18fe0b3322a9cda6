from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from runners.gemini import GeminiParser, GeminiRunner
from tests.runners.cli_support import RecordingSink, make_ctx, metered, parse_all

# Observed from gemini-cli 0.61.0 (--output-format stream-json) against a fake API.
RECORDED = [
    '{"type":"init","timestamp":"2026-11-24T03:00:00.000Z","session_id":"abc","model":"gemini-2.5-flash"}',
    '{"type":"message","timestamp":"2026-11-24T03:00:00.010Z","role":"user","content":"make file"}',
    '{"type":"tool_use","timestamp":"2026-11-24T03:00:00.500Z","tool_name":"run_shell_command","tool_id":"run_shell_command-1","parameters":{"command":"echo made-by-gemini > f","description":"write"}}',  # noqa: E501
    '{"type":"tool_result","timestamp":"2026-11-24T03:00:00.700Z","tool_id":"run_shell_command-1","status":"success","output":"made-by-gemini"}',
    '{"type":"message","timestamp":"2026-11-24T03:00:01.000Z","role":"assistant","content":"Hello ","delta":true}',
    '{"type":"result","timestamp":"2026-11-24T03:00:01.100Z","status":"success","stats":{"total_tokens":1210,"input_tokens":1000,"output_tokens":200,"cached":400,"input":600,"duration_ms":1100,"tool_calls":1,"models":{"gemini-2.5-flash":{"total_tokens":1210,"input_tokens":1000,"output_tokens":200,"cached":400,"input":600}}}}',
]


def test_it_parses_the_recorded_stream() -> None:
    events = parse_all(GeminiParser(), RECORDED)
    assert [e.type for e in events] == ["system", "tool_use", "tool_result", "text", "result"]
    assert events[1].data == {
        "id": "run_shell_command-1",
        "name": "run_shell_command",
        "input": {"command": "echo made-by-gemini > f", "description": "write"},
    }
    assert events[2].data["content"] == "made-by-gemini" and not events[2].is_error
    assert events[3].data == {"text": "Hello ", "delta": True}


def test_it_reads_tokens_and_the_sink_prices_them_per_model() -> None:
    events = parse_all(GeminiParser(), RECORDED)
    result = events[-1]
    final = result.final
    assert final is not None and not result.is_error
    # 1000 prompt tokens = 600 uncached + 400 cached; the 10 tokens beyond input+output are thoughts
    assert (final.tokens_in, final.cache_read, final.tokens_out) == (600, 400, 210)
    assert final.cost_usd is None  # no cost field: the sink prices the tokens
    assert result.usage is not None and result.usage.tokens_total == final.tokens_total
    assert result.usage.model == "gemini-2.5-flash"
    expected = (Decimal("0.30") * 600 + Decimal("0.075") * 400 + Decimal("2.50") * 210) / Decimal(1_000_000)
    assert metered(events, model="an-unpriced-model").cost_usd == expected


def test_it_reports_each_models_share_when_a_run_used_several() -> None:
    flash = {"total_tokens": 1210, "input_tokens": 1000, "output_tokens": 200, "cached": 400, "input": 600}
    lite = {"total_tokens": 120, "input_tokens": 100, "output_tokens": 20, "cached": 0, "input": 100}
    total = {"total_tokens": 1330, "input_tokens": 1100, "output_tokens": 220, "cached": 400, "input": 700}
    stats = {**total, "models": {"gemini-2.5-flash": flash, "gemini-2.5-flash-lite": lite}}
    events = GeminiParser(model="gemini-2.5-flash").parse_line(json.dumps({"type": "result", "stats": stats}))
    assert [e.type for e in events] == ["system", "system", "result"]
    assert [(e.data["model"], e.usage.model if e.usage else "") for e in events[:2]] == [
        ("gemini-2.5-flash", "gemini-2.5-flash"),
        ("gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
    ]
    assert events[-1].usage is None and events[-1].final is not None and events[-1].final.tokens_total == 1330
    flash_cost = (Decimal("0.30") * 600 + Decimal("0.075") * 400 + Decimal("2.50") * 210) / Decimal(1_000_000)
    lite_cost = (Decimal("0.10") * 100 + Decimal("0.40") * 20) / Decimal(1_000_000)
    assert metered(events).cost_usd == flash_cost + lite_cost


def test_it_reports_an_error_result_and_error_events() -> None:
    parser = GeminiParser()
    failed = parser.parse_line(
        '{"type":"result","status":"error","error":{"type":"FatalError","message":"quota"},"stats":{}}'
    )[0]
    assert failed.is_error and failed.data["error"] == "quota"
    warning = parser.parse_line('{"type":"error","severity":"warning","message":"loop detected"}')[0]
    assert warning.type == "error" and not warning.is_error
    tool_failed = parser.parse_line(
        '{"type":"tool_result","tool_id":"t","status":"error","output":"","error":{"type":"x","message":"denied"}}'
    )[0]
    assert tool_failed.is_error and tool_failed.data["content"] == "denied"


@pytest.mark.parametrize("line", ["Loaded cached credentials.", "{oops", '"str"', '{"type":"later_event"}'])
def test_it_turns_garbage_into_raw_events(line: str) -> None:
    assert [e.type for e in GeminiParser().parse_line(line)] == ["raw"]


def test_it_builds_the_command_line(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, model="gemini-2.5-pro")
    runner = GeminiRunner()
    argv = runner.command(ctx)
    assert argv[0] == "gemini" and "--yolo" in argv
    assert argv[argv.index("--output-format") + 1] == "stream-json"
    assert argv[argv.index("-m") + 1] == "gemini-2.5-pro"
    assert argv[-2] == "-p" and ctx.prompt in argv[-1]
    assert runner.env(ctx) == {"GEMINI_CLI_TRUST_WORKSPACE": "true"}


def test_it_runs_the_fake_cli_end_to_end(tmp_path: Path) -> None:
    log = tmp_path / "invocation.json"
    sink = RecordingSink()
    outcome = GeminiRunner().execute(make_ctx(tmp_path, model="gemini-2.5-flash", env={"FAKE_CLI_LOG": str(log)}), sink)
    assert outcome.exit_code == 0 and outcome.failure_reason == ""
    assert (tmp_path / "fake-output.txt").read_text() == "made-by-gemini\n"
    final = sink.final
    assert final is not None and (final.tokens_in, final.cache_read, final.tokens_out) == (200, 100, 40)
    assert sink.usage.cost_usd is not None and sink.usage.cost_usd > 0  # priced by the sink
    assert json.loads(log.read_text())["env"]["GEMINI_CLI_TRUST_WORKSPACE"] == "true"


def test_it_reports_a_crash_and_keeps_garbage(tmp_path: Path) -> None:
    crashed = GeminiRunner().execute(make_ctx(tmp_path, env={"FAKE_CLI_SCENARIO": "crash"}), RecordingSink())
    assert crashed.exit_code == 1 and "crashed on purpose" in crashed.failure_reason
    sink = RecordingSink()
    assert GeminiRunner().execute(make_ctx(tmp_path, env={"FAKE_CLI_SCENARIO": "garbage"}), sink).exit_code == 0
    assert "Loading configuration..." in {e.data["line"] for e in sink.of_type("raw")}
    assert sink.final is not None and sink.final.tokens_out == 40


def test_it_times_out_a_stream_without_usage(tmp_path: Path) -> None:
    # gemini reports tokens only at the end; a run that never ends is bounded by its timeout.
    ctx = make_ctx(tmp_path, env={"FAKE_CLI_SCENARIO": "long_stream"}, timeout_s=1, extra={"kill_grace_s": 1})
    sink = RecordingSink(token_budget=10)
    outcome = GeminiRunner().execute(ctx, sink)
    assert outcome.stop_reason == "timed_out"
    assert sink.of_type("text") and not sink.of_type("result")

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from runners.copilot import CopilotRunner
from runners.opencode import OpenCodeParser, OpenCodeRunner
from tests.runners.cli_support import RecordingSink, make_ctx, metered, parse_all, total_usage

# The shape written by opencode's run.ts (`emit(type, {part})` + timestamp + sessionID).
RECORDED = [
    '{"type":"step_start","timestamp":1767036059338,"sessionID":"ses_4947","part":{"id":"prt_1","sessionID":"ses_4947","messageID":"msg_1","type":"step-start","snapshot":"46358aa5"}}',
    '{"type":"tool_use","timestamp":1767036060000,"sessionID":"ses_4947","part":{"id":"prt_2","sessionID":"ses_4947","messageID":"msg_1","type":"tool","callID":"call_1","tool":"bash","state":{"status":"completed","input":{"command":"ls"},"output":"a.txt\\n","title":"ls","metadata":{"exit":0},"time":{"start":1,"end":2}}}}',
    '{"type":"step_finish","timestamp":1767036061000,"sessionID":"ses_4947","part":{"id":"prt_3","sessionID":"ses_4947","messageID":"msg_1","type":"step-finish","reason":"tool-calls","snapshot":"46358aa5","cost":0.0123,"tokens":{"total":17512,"input":17000,"output":300,"reasoning":12,"cache":{"read":200,"write":0}}}}',
    '{"type":"text","timestamp":1767036062000,"sessionID":"ses_4947","part":{"id":"prt_4","sessionID":"ses_4947","messageID":"msg_2","type":"text","text":"There is one file.","time":{"start":1,"end":2}}}',  # noqa: E501
    '{"type":"step_finish","timestamp":1767036063000,"sessionID":"ses_4947","part":{"id":"prt_5","sessionID":"ses_4947","messageID":"msg_2","type":"step-finish","reason":"stop","snapshot":"46358aa5","cost":0.0045,"tokens":{"input":100,"output":20,"reasoning":0,"cache":{"read":17200,"write":5}}}}',
]


def test_it_parses_the_stream_and_the_sink_sums_the_steps() -> None:
    events = parse_all(OpenCodeParser(), RECORDED)
    assert [e.type for e in events] == ["system", "tool_use", "tool_result", "system", "text", "system", "result"]
    assert events[1].data == {"id": "call_1", "name": "bash", "input": {"command": "ls"}}
    assert events[2].data["content"] == "a.txt\n"
    assert total_usage(events).cost_usd == Decimal("0.0168")  # opencode's own cost per step
    result = events[-1]
    assert result.final is None and result.data["num_turns"] == 2 and not result.is_error
    totals = metered(events)
    assert (totals.tokens_in, totals.tokens_out) == (17100, 332)
    assert (totals.cache_read, totals.cache_write) == (17400, 5)
    assert totals.cost_usd == Decimal("0.0168")


def test_it_lets_the_sink_price_a_step_opencode_could_not() -> None:
    free = RECORDED[2].replace('"cost":0.0123', '"cost":0')
    step = parse_all(OpenCodeParser(), [free])[0]
    assert step.usage is not None and step.usage.cost_usd is None  # not recorded as free
    assert metered([step], model="anthropic/claude-sonnet-4-5").cost_usd == (
        Decimal(3) * 17000 + Decimal("0.30") * 200 + Decimal(15) * 312
    ) / Decimal(1_000_000)


def test_it_reports_errors_and_failed_tools() -> None:
    parser = OpenCodeParser()
    error = parser.parse_line(
        '{"type":"error","timestamp":1,"sessionID":"s","error":{"name":"APIError","data":{"message":"rate limited"}}}'
    )[0]
    assert error.type == "error" and error.is_error and error.data["message"] == "rate limited"
    failed = parser.parse_line(
        '{"type":"tool_use","part":{"callID":"c","tool":"edit","state":{"status":"error","input":{},"error":"no such file"}}}'  # noqa: E501
    )
    assert failed[1].is_error and failed[1].data["content"] == "no such file"


@pytest.mark.parametrize("line", ["Performing one time database migration...", "{", '{"type":"unknown"}'])
def test_it_turns_garbage_into_raw_events(line: str) -> None:
    assert [e.type for e in OpenCodeParser().parse_line(line)] == ["raw"]


def test_it_runs_the_fake_cli_end_to_end(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, model="anthropic/claude-sonnet-4-5")
    runner = OpenCodeRunner()
    assert runner.command(ctx)[:4] == ["opencode", "run", "--format", "json"]
    sink = RecordingSink()
    outcome = runner.execute(ctx, sink)
    assert outcome.exit_code == 0 and outcome.failure_reason == ""
    assert (tmp_path / "fake-output.txt").read_text() == "made-by-opencode\n"
    usage = sink.usage
    assert sink.final is None and usage.cost_usd == Decimal("0.0036")
    assert (usage.tokens_in, usage.tokens_out, usage.cache_read, usage.cache_write) == (1200, 100, 400, 20)


def test_it_stops_a_long_stream_when_the_cost_budget_is_crossed(tmp_path: Path) -> None:
    env = {"FAKE_CLI_SCENARIO": "long_stream", "FAKE_CLI_STOP_AT": "6"}
    ctx = make_ctx(tmp_path, env=env, extra={"kill_grace_s": 2})
    sink = RecordingSink(cost_budget=Decimal("0.05"))
    outcome = OpenCodeRunner().execute(ctx, sink)
    assert outcome.stop_reason == "budget_exceeded"
    assert sink.metered.cost_usd == Decimal("0.06")  # the sixth step crosses $0.05; the fake waits there


# --- copilot (no fake binary: its format comes from public parsers, see runners/copilot.py) ---

COPILOT = [
    '{"type":"assistant.turn_start","data":{"turnId":"0"}}',
    '{"type":"assistant.message_delta","data":{"messageId":"m1","deltaContent":"Let me"}}',
    '{"type":"assistant.message","data":{"messageId":"m1","content":"Let me write it.","toolRequests":[{"toolCallId":"t1","name":"bash","arguments":{"command":"echo hi"},"type":"function"}]}}',  # noqa: E501
    '{"type":"tool.execution_start","data":{"toolCallId":"t1","toolName":"bash","arguments":{"command":"echo hi"}}}',
    '{"type":"tool.execution_complete","data":{"toolCallId":"t1","success":true,"result":{"content":"hi\\n","detailedContent":"hi\\n"}}}',
    '{"type":"assistant.usage","data":{"model":"gpt-5","inputTokens":1000,"outputTokens":100,"cacheReadTokens":0,"cacheWriteTokens":0}}',
    '{"type":"assistant.turn_end","data":{"turnId":"0"}}',
    '{"type":"result","exitCode":0,"usage":{"premiumRequests":1,"totalApiDurationMs":12,"sessionDurationMs":34}}',
]


def test_it_parses_copilot_json_events() -> None:
    parser = CopilotRunner().parser(make_ctx(Path("/tmp"), model="gpt-5"))
    events = parse_all(parser, COPILOT)
    assert [e.type for e in events] == ["system", "text", "tool_use", "tool_result", "system", "result"]
    assert events[1].data["text"] == "Let me write it."
    assert events[2].data == {"id": "t1", "name": "bash", "input": {"command": "echo hi"}}
    assert events[3].data["content"] == "hi\n"
    result = events[-1]
    assert result.final is None and result.data["num_turns"] == 1 and not result.is_error
    totals = metered(events)
    assert totals.tokens_in == 1000
    assert totals.cost_usd == (Decimal("1.25") * 1000 + Decimal(10) * 100) / Decimal(1_000_000)
    assert parser.parse_line("plain text from an old CLI")[0].type == "text"


def test_it_runs_the_fake_copilot_end_to_end(tmp_path: Path) -> None:
    log = tmp_path / "invocation.json"
    ctx = make_ctx(tmp_path, model="gpt-5", env={"FAKE_CLI_LOG": str(log)})
    sink = RecordingSink(model="gpt-5")
    outcome = CopilotRunner().execute(ctx, sink)
    assert outcome.exit_code == 0 and outcome.failure_reason == ""
    assert (tmp_path / "fake-output.txt").read_text() == "made-by-copilot\n"
    argv = json.loads(log.read_text())["argv"]
    assert argv[-2] == "-p" and ctx.prompt in argv[-1] and "You are the backend engineer." in argv[-1]
    assert (sink.usage.tokens_in, sink.usage.tokens_out, sink.usage.cache_read) == (1500, 150, 500)
    assert sink.of_type("result")[-1].data["num_turns"] == 2


def test_it_passes_a_huge_prompt_to_copilot_on_stdin(tmp_path: Path) -> None:
    log = tmp_path / "invocation.json"
    prompt = "Do the task. " + "z" * 150_000  # beyond Linux's 128 KiB limit for one argument
    ctx = make_ctx(tmp_path, prompt=prompt, env={"FAKE_CLI_LOG": str(log)})
    outcome = CopilotRunner().execute(ctx, RecordingSink())
    assert outcome.exit_code == 0 and outcome.failure_reason == ""  # argv did not overflow
    invocation = json.loads(log.read_text())
    assert invocation["stdin"].endswith(prompt) and "You are the backend engineer." in invocation["stdin"]
    assert "-p" not in invocation["argv"] and not any("zzzz" in arg for arg in invocation["argv"])

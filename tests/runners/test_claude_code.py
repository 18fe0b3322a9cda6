from __future__ import annotations

import json
import os
import signal
from decimal import Decimal
from pathlib import Path

import pytest

from runners.claude_code import ClaudeCodeRunner, ClaudeParser
from runners.pricing import price
from runners.sink import Meter
from tests.processes import process_gone
from tests.runners.cli_support import RecordingSink, make_ctx, parse_all, total_usage

# Lines as the real claude 2.1.330 prints them (trimmed of fields the parser ignores).
INIT = json.dumps(
    {
        "type": "system",
        "subtype": "init",
        "cwd": "/tmp/w",
        "session_id": "s-1",
        "tools": ["Bash", "Write"],
        "mcp_servers": [],
        "model": "claude-opus-5-5",
        "permissionMode": "bypassPermissions",
        "apiKeySource": "ANTHROPIC_API_KEY",
        "claude_code_version": "2.1.330",
        "uuid": "u1",
    }
)
USAGE_1 = {"input_tokens": 12, "output_tokens": 3, "cache_creation_input_tokens": 400, "cache_read_input_tokens": 0}


def _assistant(msg_id: str, block: dict[str, object], usage: dict[str, int]) -> str:
    return json.dumps(
        {
            "type": "assistant",
            "message": {
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "model": "claude-opus-5-5",
                "content": [block],
                "stop_reason": None,
                "usage": usage,
            },
            "parent_tool_use_id": None,
            "session_id": "s-1",
            "uuid": "u2",
            "timestamp": "2026-11-24T03:00:00Z",
        }
    )


TEXT_1 = _assistant("msg_01", {"type": "text", "text": "Writing it."}, USAGE_1)
TOOL_1 = _assistant(
    "msg_01", {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "echo hi > f"}}, USAGE_1
)
TOOL_RESULT = json.dumps(
    {
        "type": "user",
        "message": {
            "role": "user",
            "content": [{"tool_use_id": "toolu_1", "type": "tool_result", "content": "done", "is_error": False}],
        },
        "parent_tool_use_id": None,
        "session_id": "s-1",
        "uuid": "u3",
        "timestamp": "2026-11-24T03:00:01Z",
        "tool_use_result": {"stdout": "done", "stderr": "", "interrupted": False},
    }
)
TEXT_2 = _assistant(
    "msg_02",
    {"type": "text", "text": "All done."},
    {"input_tokens": 20, "output_tokens": 7, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 400},
)
RESULT = json.dumps(
    {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "num_turns": 2,
        "result": "All done.",
        "session_id": "s-1",
        "duration_ms": 1200,
        "duration_api_ms": 1000,
        "total_cost_usd": 0.001286,
        "stop_reason": "end_turn",
        "terminal_reason": "completed",
        "usage": {
            "input_tokens": 32,
            "cache_creation_input_tokens": 400,
            "cache_read_input_tokens": 400,
            "output_tokens": 10,
            "server_tool_use": {"web_search_requests": 0},
        },
        "modelUsage": {
            "claude-opus-5-5": {
                "inputTokens": 32,
                "outputTokens": 10,
                "cacheReadInputTokens": 400,
                "cacheCreationInputTokens": 400,
                "costUSD": 0.001286,
            }
        },
        "permission_denials": [],
        "uuid": "u4",
    }
)
NOT_LOGGED_IN = [
    json.dumps({"type": "system", "subtype": "init", "model": "claude-opus-5-5", "apiKeySource": "none"}),
    json.dumps(
        {
            "type": "assistant",
            "message": {
                "id": "x",
                "model": "<synthetic>",
                "role": "assistant",
                "content": [{"type": "text", "text": "Not logged in · Please run /login"}],
                "usage": {"input_tokens": 0, "output_tokens": 0},
            },
            "error": "authentication_failed",
            "is_api_error_message": True,
        }
    ),
    json.dumps(
        {
            "type": "result",
            "subtype": "success",
            "is_error": True,
            "terminal_reason": "api_error",
            "result": "Not logged in · Please run /login",
            "total_cost_usd": 0,
            "num_turns": 1,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
    ),
]


def test_it_parses_the_stream_into_events() -> None:
    events = parse_all(ClaudeParser(), [INIT, TEXT_1, TOOL_1, TOOL_RESULT, TEXT_2, RESULT])
    assert [e.type for e in events] == ["system", "text", "tool_use", "tool_result", "text", "result"]
    assert events[0].data["model"] == "claude-opus-5-5"
    assert events[1].data["text"] == "Writing it."
    assert events[2].data == {"id": "toolu_1", "name": "Bash", "input": {"command": "echo hi > f"}}
    assert events[3].data["tool_use_id"] == "toolu_1" and events[3].data["content"] == "done"
    assert not events[3].is_error


def test_it_takes_the_cost_from_top_level_total_cost_usd() -> None:
    event = ClaudeParser().parse_line(RESULT)[0]
    assert event.type == "result" and not event.is_error
    assert event.final is not None
    assert event.final.cost_usd == Decimal("0.001286")
    assert (event.final.tokens_in, event.final.tokens_out) == (32, 10)
    assert (event.final.cache_read, event.final.cache_write) == (400, 400)
    assert event.data["num_turns"] == 2
    assert event.data["subtype"] == "success"


def test_it_counts_each_message_usage_once() -> None:
    events = parse_all(ClaudeParser(), [TEXT_1, TOOL_1, TEXT_2])
    metered = total_usage(events)
    # msg_01 appears on two lines (one per content block) with the same usage: counted once.
    assert (metered.tokens_in, metered.tokens_out, metered.cache_read, metered.cache_write) == (32, 10, 400, 400)
    assert events[1].usage is None


def test_it_meters_only_the_growth_when_a_message_reports_more_later() -> None:
    bigger = {**USAGE_1, "output_tokens": 50}
    events = parse_all(ClaudeParser(), [TEXT_1, _assistant("msg_01", {"type": "text", "text": "more"}, bigger)])
    assert total_usage(events).tokens_out == 50
    assert events[1].usage is not None and events[1].usage.tokens_out == 47


def test_it_names_the_model_of_each_delta_for_the_mid_run_meter() -> None:
    delta = ClaudeParser(model="claude-sonnet-4-5").parse_line(TEXT_2)[0].usage
    # The parser reports tokens only; the sink prices them with the model that produced them.
    assert delta is not None and delta.cost_usd is None and delta.model == "claude-opus-5-5"
    priced = Meter("an-unknown-agent-model").add(delta)
    assert priced.cost_usd == price("claude-opus-5-5", delta) > 0  # claude-opus is in the table


def test_it_marks_a_not_logged_in_run_as_an_error() -> None:
    events = parse_all(ClaudeParser(), NOT_LOGGED_IN)
    assert any(e.type == "error" and e.is_error for e in events)
    result = events[-1]
    assert result.type == "result" and result.is_error
    assert result.final is not None and result.final.cost_usd == Decimal(0)


def test_it_treats_an_error_subtype_as_a_failed_result() -> None:
    line = json.dumps({"type": "result", "subtype": "error_max_turns", "is_error": False, "num_turns": 10})
    event = ClaudeParser().parse_line(line)[0]
    assert event.is_error and event.data["subtype"] == "error_max_turns"


@pytest.mark.parametrize(
    "line", ["not json", "{broken", "[1, 2]", "null", '{"type": "mystery"}', '{"type": "assistant", "message": 3}']
)
def test_it_turns_garbage_into_raw_events(line: str) -> None:
    events = ClaudeParser().parse_line(line)
    assert [e.type for e in events] == ["raw"]
    assert events[0].data["line"] == line


def test_it_builds_the_command_line(tmp_path: Path) -> None:
    ctx = make_ctx(
        tmp_path,
        model="claude-sonnet-4-5",
        max_turns=7,
        prompt="-starts with a dash",
        disallowed_tools=["WebFetch", "Bash(git push:*)"],
    )
    runner = ClaudeCodeRunner()
    argv = runner.command(ctx)
    assert argv[:5] == ["claude", "-p", "--output-format", "stream-json", "--verbose"]
    assert argv[argv.index("--max-turns") + 1] == "7"
    assert argv[argv.index("--model") + 1] == "claude-sonnet-4-5"
    assert argv[argv.index("--append-system-prompt") + 1] == "You are the backend engineer."
    assert "--dangerously-skip-permissions" in argv
    assert "--disallowedTools=WebFetch,Bash(git push:*)" in argv
    assert argv[-2:] == ["--", "-starts with a dash"]
    assert runner.env(ctx)["IS_SANDBOX"] == "1"


# --- through the real executor with the fake binary -------------------------------------


def test_it_runs_the_fake_cli_end_to_end(tmp_path: Path) -> None:
    log = tmp_path / "invocation.json"
    ctx = make_ctx(tmp_path, env={"FAKE_CLI_LOG": str(log)})
    sink = RecordingSink()
    outcome = ClaudeCodeRunner().execute(ctx, sink)
    assert outcome.exit_code == 0 and outcome.failure_reason == ""
    assert (tmp_path / "fake-output.txt").read_text() == "made-by-claude\n"
    # per-message deltas (msg_fake_1 counted once) add up to the CLI's own totals
    assert (sink.metered.tokens_in, sink.metered.tokens_out) == (250, 50)
    assert (sink.metered.cache_read, sink.metered.cache_write) == (110, 10)
    final = sink.final
    assert final is not None and final.cost_usd == Decimal("0.012345")
    assert (final.tokens_in, final.tokens_out, final.cache_read, final.cache_write) == (250, 50, 110, 10)
    invocation = json.loads(log.read_text())
    assert invocation["env"]["IS_SANDBOX"] == "1"  # merged in by SubprocessRunner.execute
    assert invocation["argv"][-1] == ctx.prompt
    assert invocation["cwd"] == str(tmp_path)


def test_it_stops_a_long_stream_when_the_budget_is_crossed(tmp_path: Path) -> None:
    env = {"FAKE_CLI_SCENARIO": "long_stream", "FAKE_CLI_STOP_AT": "5"}
    ctx = make_ctx(tmp_path, env=env, extra={"kill_grace_s": 2})
    sink = RecordingSink(token_budget=5_000)
    outcome = ClaudeCodeRunner().execute(ctx, sink)
    assert outcome.stop_reason == "budget_exceeded"
    # 180 tokens first, then 1,100 a message: the fifth crosses 5,000 and nothing after it is metered
    assert sink.metered.tokens_total == 180 + 5 * 1_100
    assert not sink.of_type("result")


def test_it_reports_a_crash(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, env={"FAKE_CLI_SCENARIO": "crash"})
    sink = RecordingSink()
    outcome = ClaudeCodeRunner().execute(ctx, sink)
    assert outcome.exit_code == 1 and outcome.failure_reason == "exit code 1" and outcome.stderr_tail == ""
    assert sink.of_type("system") and sink.of_type("text")
    # Like the real CLI, it says why in an error message and a final result with is_error.
    [error] = sink.of_type("error")
    [result] = sink.of_type("result")
    assert error.is_error and result.is_error and result.data["terminal_reason"] == "api_error"
    assert result.data["result"].startswith("API Error: 500")
    assert result.final is not None and result.final.tokens_in == 100


def test_it_kills_a_hung_cli_and_its_children_on_timeout(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    ctx = make_ctx(
        tmp_path,
        env={"FAKE_CLI_SCENARIO": "hang", "FAKE_CLI_PIDFILE": str(pidfile)},
        timeout_s=1,
        extra={"kill_grace_s": 1},
    )
    outcome = ClaudeCodeRunner().execute(ctx, RecordingSink())
    assert outcome.stop_reason == "timed_out"
    grandchild = int(pidfile.read_text())
    if not process_gone(grandchild):
        os.kill(grandchild, signal.SIGKILL)
        pytest.fail("the grandchild survived the run")


def test_it_keeps_garbage_lines_as_raw_events(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, env={"FAKE_CLI_SCENARIO": "garbage"})
    sink = RecordingSink()
    outcome = ClaudeCodeRunner().execute(ctx, sink)
    assert outcome.exit_code == 0
    raws = [e.data["line"] for e in sink.of_type("raw")]
    assert "Loading configuration..." in raws and "[1, 2, 3]" in raws
    assert sink.final is not None and sink.final.cost_usd == Decimal("0.012345")
    assert (tmp_path / "fake-output.txt").exists()


def test_it_fails_at_once_when_the_binary_is_missing(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, path_dirs=[tmp_path / "empty"], env={"PATH": str(tmp_path / "empty")})
    sink = RecordingSink()
    outcome = ClaudeCodeRunner().execute(ctx, sink)
    assert outcome.exit_code is None
    assert "claude" in outcome.failure_reason and "not found" in outcome.failure_reason


def test_it_passes_a_huge_prompt_on_stdin(tmp_path: Path) -> None:
    log = tmp_path / "invocation.json"
    prompt = "Do the task. " + "x" * 150_000  # beyond Linux's 128 KiB limit for one argument
    ctx = make_ctx(tmp_path, prompt=prompt, env={"FAKE_CLI_LOG": str(log)})
    outcome = ClaudeCodeRunner().execute(ctx, RecordingSink())
    assert outcome.exit_code == 0
    invocation = json.loads(log.read_text())
    assert invocation["stdin"] == prompt
    assert not any("xxxx" in arg for arg in invocation["argv"]) and "--" not in invocation["argv"]

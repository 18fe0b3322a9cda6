from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from runners.codex import CodexParser, CodexRunner
from tests.runners.cli_support import RecordingSink, make_ctx, metered, parse_all

# The JSONL observed from codex-cli 0.169.0 against a fake Responses provider.
RECORDED = [
    '{"type":"thread.started","thread_id":"01a202f5-7d4e-7c32-9d2c-3a1f0e6b5c11"}',
    '{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata for `gpt-fake` not found."}}',  # noqa: E501
    '{"type":"turn.started"}',
    '{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc \'echo made-by-codex > f\'","aggregated_output":"","exit_code":null,"status":"in_progress"}}',  # noqa: E501
    '{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"/bin/bash -lc \'echo made-by-codex > f\'","aggregated_output":"made-by-codex\\n","exit_code":0,"status":"completed"}}',  # noqa: E501
    '{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Hello from fake OpenAI."}}',
    '{"type":"turn.completed","usage":{"input_tokens":642,"cached_input_tokens":200,"cache_write_input_tokens":0,"output_tokens":34,"reasoning_output_tokens":10}}',
]


def _parser(model: str = "gpt-5") -> CodexParser:
    return CodexRunner().parser(make_ctx(Path("/tmp"), model=model))


def test_it_parses_the_recorded_stream() -> None:
    events = parse_all(_parser(), RECORDED)
    assert [e.type for e in events] == ["system", "error", "system", "tool_use", "tool_result", "text", "result"]
    assert not events[1].is_error  # a warning item, not a failure
    assert events[3].data["name"] == "shell" and "echo made-by-codex" in events[3].data["input"]["command"]
    assert events[4].data["content"] == "made-by-codex\n" and not events[4].is_error
    assert events[5].data["text"] == "Hello from fake OpenAI."


def test_it_splits_cached_input_and_leaves_the_price_to_the_sink() -> None:
    events = parse_all(_parser("gpt-5"), RECORDED)
    result = events[-1]
    assert result.usage is not None and result.final is None  # codex states no totals of its own
    # input_tokens includes the cached part: 642 = 442 uncached + 200 cached
    assert (result.usage.tokens_in, result.usage.cache_read, result.usage.tokens_out) == (442, 200, 34)
    assert result.usage.cost_usd is None
    assert result.data["num_turns"] == 1 and result.data["model"] == "gpt-5"
    usage = metered(events, model="gpt-5")
    expected = (Decimal("1.25") * 442 + Decimal("0.125") * 200 + Decimal(10) * 34) / Decimal(1_000_000)
    assert usage.cost_usd == expected


def test_it_costs_nothing_for_an_unpriced_model() -> None:
    events = parse_all(_parser("gpt-fake"), RECORDED)
    assert events[-1].usage is not None and events[-1].usage.cost_usd is None
    assert metered(events, model="gpt-fake").cost_usd == 0


def test_it_sums_several_turns_in_the_sink() -> None:
    line = RECORDED[-1]
    events = parse_all(_parser(), [line, line])
    assert events[-1].usage is not None and events[-1].usage.tokens_out == 34
    assert events[-1].data["num_turns"] == 2
    assert metered(events, model="gpt-5").tokens_out == 68


def test_it_reports_a_failed_turn() -> None:
    events = _parser().parse_line('{"type":"turn.failed","error":{"message":"stream disconnected"}}')
    assert events[0].type == "result" and events[0].is_error
    assert events[0].data["error"] == "stream disconnected"


def test_it_maps_file_changes_and_mcp_calls() -> None:
    parser = _parser()
    change = '{"type":"item.completed","item":{"id":"i","type":"file_change","changes":[{"path":"a.py","kind":"add"}],"status":"completed"}}'  # noqa: E501
    mcp = '{"type":"item.completed","item":{"id":"m","type":"mcp_tool_call","server":"s","tool":"t","arguments":{},"result":null,"error":{"message":"boom"},"status":"failed"}}'  # noqa: E501
    events = parse_all(parser, [change, mcp])
    assert [e.type for e in events] == ["tool_use", "tool_result", "tool_result"]
    assert events[0].data["input"]["changes"][0]["path"] == "a.py"
    assert events[2].is_error and events[2].data["content"] == "boom"


@pytest.mark.parametrize("line", ["Reading prompt from stdin...", "{", "[]", '{"type":"new.thing"}'])
def test_it_turns_garbage_into_raw_events(line: str) -> None:
    assert [e.type for e in _parser().parse_line(line)] == ["raw"]


def test_it_builds_the_command_line_with_a_custom_provider(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, model="qwen3-coder", extra={"base_url": "http://127.0.0.1:11434/v1", "wire_api": "chat"})
    argv = CodexRunner().command(ctx)
    assert argv[:3] == ["codex", "exec", "--json"]
    assert "--skip-git-repo-check" in argv
    assert "analytics.enabled=false" in argv
    assert argv[argv.index("-m") + 1] == "qwen3-coder"
    assert argv[argv.index("--sandbox") + 1] == "workspace-write"
    assert "model_provider=mesa" in argv
    provider = next(a for a in argv if a.startswith("model_providers.mesa="))
    assert 'base_url="http://127.0.0.1:11434/v1"' in provider and 'wire_api="chat"' in provider
    assert argv[-2] == "--"
    assert "You are the backend engineer." in argv[-1] and ctx.prompt in argv[-1]


def test_it_runs_the_fake_cli_end_to_end(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, model="gpt-5")
    sink = RecordingSink(model="gpt-5")
    outcome = CodexRunner().execute(ctx, sink)
    assert outcome.exit_code == 0 and outcome.failure_reason == ""
    assert (tmp_path / "fake-output.txt").read_text() == "made-by-codex\n"
    usage = sink.usage
    assert (usage.tokens_in, usage.cache_read, usage.tokens_out) == (442, 200, 34)
    assert usage.cost_usd is not None and usage.cost_usd > 0


def test_it_stops_at_a_turn_boundary_when_the_budget_is_crossed(tmp_path: Path) -> None:
    env = {"FAKE_CLI_SCENARIO": "long_stream", "FAKE_CLI_STOP_AT": "3"}
    ctx = make_ctx(tmp_path, model="gpt-5", env=env, extra={"kill_grace_s": 2})
    sink = RecordingSink(token_budget=3_000)
    outcome = CodexRunner().execute(ctx, sink)
    assert outcome.stop_reason == "budget_exceeded"
    assert sink.metered.tokens_total == 3 * 1_100  # the third turn crosses 3,000; the fake waits there


def test_it_reports_a_crash_and_keeps_garbage(tmp_path: Path) -> None:
    crashed = CodexRunner().execute(make_ctx(tmp_path, env={"FAKE_CLI_SCENARIO": "crash"}), RecordingSink())
    assert crashed.exit_code == 1 and "crashed on purpose" in crashed.failure_reason
    sink = RecordingSink()
    ok = CodexRunner().execute(make_ctx(tmp_path, model="gpt-5", env={"FAKE_CLI_SCENARIO": "garbage"}), sink)
    assert ok.exit_code == 0
    assert {"Loading configuration...", "[1, 2, 3]"} <= {e.data["line"] for e in sink.of_type("raw")}
    assert sink.usage.tokens_out == 34


def test_it_logs_no_secret_in_the_command(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, env={"OPENAI_API_KEY": "sk-secret-123456"}, extra={"base_url": "http://127.0.0.1:1/v1"})
    assert not any("sk-secret" in part for part in CodexRunner().command(ctx))
    assert json.dumps(CodexRunner().command(ctx)).count("OPENAI_API_KEY") == 1  # only the env var's name


def test_it_reads_its_settings_from_the_agent_env(tmp_path: Path) -> None:
    env = {"MESA_CODEX_BASE_URL": "http://127.0.0.1:8000/v1", "MESA_CODEX_SANDBOX": "danger-full-access"}
    argv = CodexRunner().command(make_ctx(tmp_path, env=env))
    assert "--dangerously-bypass-approvals-and-sandbox" in argv and "--sandbox" not in argv
    assert any('base_url="http://127.0.0.1:8000/v1"' in a for a in argv)


def test_it_passes_a_huge_prompt_on_stdin(tmp_path: Path) -> None:
    log = tmp_path / "invocation.json"
    ctx = make_ctx(tmp_path, prompt="y" * 150_000, env={"FAKE_CLI_LOG": str(log)})
    assert CodexRunner().execute(ctx, RecordingSink()).exit_code == 0
    invocation = json.loads(log.read_text())
    assert invocation["argv"][-2:] == ["--", "-"]
    assert invocation["stdin"].endswith("y" * 150_000) and "You are the backend engineer." in invocation["stdin"]

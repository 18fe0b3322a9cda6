"""The CLI runners inside the whole engine: dispatch -> worktree -> fake CLI -> events -> run row."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from runners.models import Run, RunEvent, RunStatus
from tests.factories import make_agent, make_issue
from tests.runners.cli_support import FAKES_BIN

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("same_utc_day")]
CLAUDE_API_ERROR = 'API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}}'


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": f"{FAKES_BIN}{os.pathsep}{os.environ.get('PATH', os.defpath)}", **extra}


@pytest.mark.parametrize(
    ("runner", "model", "tokens", "cost"),
    [
        # claude: the cost is the CLI's own top-level total_cost_usd (the original Mesa showed $0)
        ("claude_code", "claude-sonnet-4-5", (250, 50, 110, 10), Decimal("0.012345")),
        # codex: 642 input of which 200 cached; priced from the table (gpt-5)
        ("codex", "gpt-5", (442, 34, 200, 0), Decimal("0.000918")),
        # opencode: summed step_finish tokens and costs
        ("opencode", "anthropic/claude-sonnet-4-5", (1200, 100, 400, 20), Decimal("0.0036")),
    ],
)
def test_it_records_the_fake_cli_run_on_the_run_row(
    org: Any, repo: Path, runner: str, model: str, tokens: tuple[int, int, int, int], cost: Decimal
) -> None:
    agent = make_agent(org, slug="dev", runner=runner, model=model, working_dir=str(repo), env=_env())
    issue = make_issue(org, title="Write the fake output", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.COMPLETED, run.failure_reason
    assert run.isolated and "fake-output.txt" in run.diff and "+made-by-" in run.diff
    assert (run.tokens_in, run.tokens_out, run.tokens_cache_read, run.tokens_cache_write) == tokens
    assert run.cost_usd == cost
    types = set(RunEvent.objects.filter(run=run).values_list("type", flat=True))
    assert {"tool_use", "tool_result", "result"} <= types
    assert not (repo / "fake-output.txt").exists()


def test_it_stops_a_claude_run_mid_stream_at_the_daily_token_budget(org: Any, repo: Path) -> None:
    agent = make_agent(
        org,
        slug="spender",
        runner="claude_code",
        model="claude-sonnet-4-5",
        working_dir=str(repo),
        daily_token_limit=5_000,
        env=_env(FAKE_CLI_SCENARIO="long_stream", FAKE_CLI_STOP_AT="5"),
    )
    issue = make_issue(org, title="Spend a lot", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.BUDGET_EXCEEDED, run.failure_reason
    total = run.tokens_in + run.tokens_out + run.tokens_cache_read + run.tokens_cache_write
    assert total == 180 + 5 * 1_100  # stopped at the message that crossed the limit (the fake waits there)
    assert run.cost_usd > 0  # the mid-run deltas are priced


@pytest.mark.parametrize(
    ("runner", "reason"),
    [
        ("gemini", "exit code 1: fatal: the fake CLI crashed on purpose"),
        # claude writes nothing to stderr: the why is in its final result line (is_error: true)
        ("claude_code", f"exit code 1: {CLAUDE_API_ERROR}"),
    ],
)
def test_it_fails_a_crashing_cli_with_its_error(org: Any, repo: Path, runner: str, reason: str) -> None:
    agent = make_agent(org, slug="crasher", runner=runner, working_dir=str(repo), env=_env(FAKE_CLI_SCENARIO="crash"))
    issue = make_issue(org, title="Crash", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.filter(issue=issue).order_by("id").first()  # a retry may be queued after it
    assert run is not None and run.status == RunStatus.FAILED
    assert run.failure_reason == reason


def test_it_runs_a_local_model_through_the_openai_runner(org: Any, repo: Path) -> None:
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI() as fake:
        agent = make_agent(
            org,
            slug="local",
            runner="openai",
            model="qwen2.5-coder:7b",
            working_dir=str(repo),
            env={"OPENAI_BASE_URL": fake.base_url},
        )
        issue = make_issue(org, title="Write it locally", assignee=agent)
        call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.COMPLETED, run.failure_reason
    assert "+made-by-openai" in run.diff
    assert (run.tokens_in, run.tokens_out, run.tokens_cache_read) == (220, 30, 30)
    assert run.cost_usd == 0  # an unpriced local model
    assert run.num_turns == 2
    assert issue.key in fake.requests[0]["messages"][1]["content"]  # the task prompt reached the model

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from orgs.models import Event
from runners.base import ParsedEvent, Usage
from runners.budget import Remaining
from runners.models import Run, RunEvent, RunStatus
from runners.sink import DbEventSink, Redactor
from tests.factories import make_agent, make_issue, make_run
from tests.runners.conftest import script

# Spend is counted from midnight UTC (see tests/conftest.same_utc_day).
pytestmark = pytest.mark.usefixtures("same_utc_day")

# Sends messages at once until the one that crosses the budget (STOP_AT), then waits for Mesa's
# signal rather than racing the clock: if Mesa does not stop it within 60 s it sends the next one.
METERED_CLI = """
import json, os, sys, time
count_file = os.path.join(os.environ["MESA_WORKTREE"], "..", "messages-sent")
for i in range(1, 21):
    open(count_file, "w").write(str(i))
    print(json.dumps({"type": "text", "text": f"message {i}",
                      "usage": {"tokens_in": 800, "tokens_out": 200, "cost_usd": "0.10"}}), flush=True)
    if i >= STOP_AT:
        time.sleep(60)
print(json.dumps({"type": "result", "result": "finished"}), flush=True)
"""


@pytest.mark.django_db
def test_it_stores_numbered_events_publishes_them_and_meters_usage(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    issue = make_issue(org, title="Metered")
    run = make_run(agent, issue=issue, status=RunStatus.RUNNING)
    sink = DbEventSink(run=run, org=org, issue_key=issue.key, model="")
    sink.emit(ParsedEvent("text", {"text": "hello"}, usage=Usage(10, 5)))
    sink.emit(ParsedEvent("tool_use", {"name": "Bash", "input": {"command": "ls"}}, usage=Usage(3, 2, 100)))
    run.refresh_from_db()
    assert (run.tokens_in, run.tokens_out, run.tokens_cache_read) == (13, 7, 100)
    assert list(RunEvent.objects.filter(run=run).values_list("seq", "type")) == [(1, "text"), (2, "tool_use")]
    live = list(Event.objects.filter(type="run_event").values_list("data", flat=True))
    assert [(d["run_id"], d["issue_key"], d["seq"], d["type"]) for d in live] == [
        (run.pk, issue.key, 1, "text"),
        (run.pk, issue.key, 2, "tool_use"),
    ]
    assert live[0]["text"] == "hello"
    # The CLI's own final totals replace the summed deltas.
    sink.emit(ParsedEvent("result", {"num_turns": 3}, final=Usage(50, 20, 0, 0, Decimal("0.5"))))
    run.refresh_from_db()
    assert (run.tokens_in, run.tokens_out, run.cost_usd) == (50, 20, Decimal("0.5"))
    assert sink.num_turns == 3


@pytest.mark.django_db
def test_it_asks_to_stop_as_soon_as_usage_crosses_the_remaining_budget(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    run = make_run(agent, status=RunStatus.RUNNING)
    sink = DbEventSink(
        run=run, org=org, issue_key=None, model="", remaining=Remaining(tokens=None, cost_usd=Decimal("0.25"))
    )
    for _ in range(2):
        sink.emit(ParsedEvent("text", {"text": "x"}, usage=Usage(1, 1, cost_usd=Decimal("0.10"))))
        assert sink.should_stop() is None
    sink.emit(ParsedEvent("text", {"text": "x"}, usage=Usage(1, 1, cost_usd=Decimal("0.10"))))
    assert sink.should_stop() == "budget_exceeded"


@pytest.mark.django_db
def test_it_prices_tokens_when_the_cli_reports_no_cost(org: Any) -> None:
    from runners.pricing import is_priced, price

    model = "claude-sonnet-4-5"
    if not is_priced(model):
        pytest.skip(f"the price table has no entry for {model}")
    agent = make_agent(org, runner="noop")
    run = make_run(agent, status=RunStatus.RUNNING)
    sink = DbEventSink(run=run, org=org, issue_key=None, model=model)
    sink.emit(ParsedEvent("text", {"text": "x"}, usage=Usage(1_000_000, 0)))
    run.refresh_from_db()
    assert run.cost_usd == price(model, Usage(1_000_000, 0)).quantize(Decimal("0.000001")) > 0


@pytest.mark.django_db
def test_it_redacts_secrets_from_stored_and_published_events(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    run = make_run(agent, status=RunStatus.RUNNING)
    sink = DbEventSink(run=run, org=org, issue_key=None, model="", redactor=Redactor(["mesa_run_SECRET123", "1"]))
    sink.emit(ParsedEvent("text", {"text": "key=mesa_run_SECRET123 n=1", "nested": ["mesa_run_SECRET123"]}))
    data = RunEvent.objects.get(run=run).data
    assert data == {"text": "key=[redacted] n=1", "nested": ["[redacted]"]}  # short values are not secrets
    assert "SECRET123" not in str(Event.objects.get(type="run_event").data)


@pytest.mark.django_db
def test_it_reports_a_cancel_requested_on_the_run(org: Any) -> None:
    agent = make_agent(org, runner="noop")
    run = make_run(agent, status=RunStatus.RUNNING)
    sink = DbEventSink(run=run, org=org, issue_key=None, model="")
    assert sink.should_stop() is None
    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    sink._cancel_checked = 0.0
    assert sink.should_stop() == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_it_stops_a_run_mid_stream_when_it_crosses_the_token_budget(org: Any, repo: Path, tmp_path: Path) -> None:
    cli = script(tmp_path, "metered-cli", METERED_CLI.replace("STOP_AT", "4"))
    # 3,500 tokens a day; each message costs 1,000: the 4th crosses the budget.
    agent = make_agent(
        org, slug="spender", runner="command", working_dir=str(repo), model=str(cli), daily_token_limit=3500
    )
    issue = make_issue(org, title="Spend tokens", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.BUDGET_EXCEEDED
    assert "budget" in run.failure_reason
    # Overshoot: at most the one message that crossed the budget (4,000 > 3,500 > 3,000).
    assert run.tokens_total == 4000
    sent = (Path(run.worktree_path).parent / "messages-sent").read_text()
    assert sent == "4"  # the process was killed before it could send a 5th message
    assert run.exit_code is not None and run.exit_code < 0
    # Over budget now: the issue says so and a raise is requested, once.
    from approvals.models import Approval

    assert issue.comments.filter(kind="system", body__contains="over its daily budget").exists()
    assert Approval.objects.filter(kind="budget_raise", subject_agent=agent, status="pending").count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_stops_a_run_mid_stream_when_it_crosses_the_cost_budget(org: Any, tmp_path: Path) -> None:
    cli = script(
        tmp_path,
        "metered-cli",
        METERED_CLI.replace('os.environ["MESA_WORKTREE"], ".."', f"{str(tmp_path)!r}").replace("STOP_AT", "3"),
    )
    agent = make_agent(org, slug="spender", runner="command", model=str(cli), daily_cost_limit_usd="0.25")
    issue = make_issue(org, title="Spend money", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    assert run.status == RunStatus.BUDGET_EXCEEDED
    assert run.cost_usd == Decimal("0.30")
    assert (tmp_path / "messages-sent").read_text() == "3"


@pytest.mark.django_db
def test_it_prices_once_and_stores_the_priced_delta_with_its_event(org: Any, monkeypatch: Any) -> None:
    from runners import pricing

    calls: list[str] = []
    real = pricing.price

    def counting(model: str, usage: Any) -> Any:
        calls.append(model)
        return real(model, usage)

    monkeypatch.setattr(pricing, "price", counting)
    run = make_run(make_agent(org, runner="noop"), status=RunStatus.RUNNING)
    sink = DbEventSink(run=run, org=org, issue_key=None, model="gpt-5")
    sink.emit(ParsedEvent("text", {"text": "x"}, usage=Usage(tokens_out=1_000_000, model="claude-sonnet-4-5")))
    sink.emit(ParsedEvent("text", {"text": "y"}, usage=Usage(tokens_in=1_000_000)))
    sink.emit(ParsedEvent("result", {"num_turns": 2}))
    assert calls == ["claude-sonnet-4-5", "gpt-5"]  # each delta once, when it arrived; nothing on read
    stored = [e.data["usage"]["cost_usd"] for e in RunEvent.objects.filter(run=run, type="text").order_by("seq")]
    assert [Decimal(cost) for cost in stored] == [Decimal(15), Decimal("1.25")]
    run.refresh_from_db()
    assert run.cost_usd == Decimal("16.25") and sink.usage_fields()["cost_usd"] == Decimal("16.25")
    assert len(calls) == 2

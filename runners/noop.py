"""``noop``: completes at once, spends nothing. For end-to-end tests and the dispatch benchmark."""

from __future__ import annotations

from decimal import Decimal

from runners.base import BaseRunner, EventSink, Outcome, ParsedEvent, RunContext, Usage


class NoopRunner(BaseRunner):
    """Emits one ``text`` event naming the issue and a zero-usage ``result``; never touches the issue."""

    name = "noop"

    def execute(self, ctx: RunContext, sink: EventSink) -> Outcome:
        issue_key = ctx.env.get("MESA_ISSUE_KEY", "")
        target = issue_key or "heartbeat"
        sink.emit(ParsedEvent("text", {"text": f"noop run {ctx.run_id} for {target}"}))
        sink.emit(
            ParsedEvent(
                "result",
                {"subtype": "success", "result": f"noop done: {target}", "num_turns": 0},
                final=Usage(cost_usd=Decimal(0)),
            )
        )
        return Outcome(exit_code=0, num_turns=0)

"""``dry_run``: records the exact prompt the agent would get and spends nothing (archetype iteration)."""

from __future__ import annotations

from decimal import Decimal

from runners.base import BaseRunner, EventSink, Outcome, ParsedEvent, RunContext, Usage


class DryRunRunner(BaseRunner):
    name = "dry_run"

    def execute(self, ctx: RunContext, sink: EventSink) -> Outcome:
        sink.emit(
            ParsedEvent(
                "system",
                {
                    "subtype": "dry_run",
                    "agent": ctx.agent_slug,
                    "model": ctx.model,
                    "issue_key": ctx.env.get("MESA_ISSUE_KEY", ""),
                    "system_prompt": ctx.system_prompt,
                    "prompt": ctx.prompt,
                },
            )
        )
        result = "dry run: prompt recorded, nothing executed"
        if ctx.extra.get("mode") == "chat":
            # Something a test (or a person trying chat without a model) recognises: the message it answers.
            last = next((line for line in reversed(ctx.prompt.splitlines()) if line.strip()), "")
            result = f"dry run reply to: {last.strip()[:300]}"
        sink.emit(
            ParsedEvent(
                "result",
                {"subtype": "success", "result": result, "num_turns": 0},
                final=Usage(cost_usd=Decimal(0)),
            )
        )
        return Outcome(exit_code=0, num_turns=0)

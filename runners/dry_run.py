"""``dry_run``: records the exact prompt the agent would get and spends nothing (archetype iteration).

A scripted answer, for tests and demos: when the agent's env names a readable file in
``DRY_RUN_REPLY_FILE_<MODE>`` (``..._EVALUATION``, ``..._AUDIT``, ``..._TASK``) or ``DRY_RUN_REPLY_FILE``,
its text is the agent's answer (a ``text`` event and the ``result``), as a model's would be. Nothing
else is executed.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from runners.base import BaseRunner, EventSink, Outcome, ParsedEvent, RunContext, Usage


def scripted_reply(ctx: RunContext) -> str:
    mode = str(ctx.extra.get("mode") or "").upper()
    for name in (f"DRY_RUN_REPLY_FILE_{mode}", "DRY_RUN_REPLY_FILE"):
        path = ctx.env.get(name, "")
        if path:
            try:
                return Path(path).read_text(encoding="utf-8")
            except OSError:
                return ""
    return ""


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
        reply = scripted_reply(ctx)
        if not reply and ctx.extra.get("mode") == "chat":
            # Something a test (or a person trying chat without a model) recognises: the message it answers.
            last = next((line for line in reversed(ctx.prompt.splitlines()) if line.strip()), "")
            reply = f"dry run reply to: {last.strip()[:300]}"
        if reply:
            sink.emit(ParsedEvent("text", {"text": reply}))
        sink.emit(
            ParsedEvent(
                "result",
                {
                    "subtype": "success",
                    "result": reply or "dry run: prompt recorded, nothing executed",
                    "num_turns": 0,
                },
                final=Usage(cost_usd=Decimal(0)),
            )
        )
        return Outcome(exit_code=0, num_turns=0)

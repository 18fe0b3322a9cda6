"""The database-backed ``EventSink``: stores, publishes and meters every event of a run.

Each event becomes a ``RunEvent`` row (seq 1, 2, ...) and a live ``run_event`` on the
durable event feed (the dashboard streams it). A :class:`Meter` keeps the run's usage: deltas
are summed as they arrive (a ``final`` usage from the CLI replaces the sum: its own totals win),
and this is the one place where a price is computed. The totals are written to the Run row as
they change, so the usage pages and the budget see a run while it runs.

``should_stop`` answers ``budget_exceeded`` as soon as the running total crosses the
agent's remaining daily budget (tokens or cost), so a run overshoots by at most the one
streamed message that crossed it; ``cancelled`` when a cancel was requested (the Run row,
checked at most every 0.5 s) or the scheduler is shutting down.

Secrets (every value Mesa injects into the run, the org's stored secrets; see orgs.redaction)
are redacted from everything stored and published.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.db import close_old_connections, transaction

from orgs.events import EventType, event_publish
from orgs.models import Org
from orgs.redaction import REDACTED, Redactor
from runners import pricing
from runners.base import ParsedEvent, Usage
from runners.budget import Remaining
from runners.models import Run, RunEvent
from runners.processes import process_start_ticks

log = logging.getLogger(__name__)

__all__ = ["REDACTED", "DbEventSink", "Meter", "Redactor"]

LIVE_TEXT_MAX = 500  # characters of an event's text put on the live feed
EVENT_TEXT_MAX = 20_000  # characters of any one string stored in a RunEvent
CANCEL_CHECK_S = 0.5
TEXT_TAIL_MAX = 40_000  # characters of the agent's own words kept in memory during a run


def _cap(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= EVENT_TEXT_MAX else value[:EVENT_TEXT_MAX] + f"… [{len(value)} chars]"
    if isinstance(value, dict):
        return {k: _cap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cap(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _summary(event: ParsedEvent) -> str:
    """A short human-readable line for the live feed."""
    data = event.data
    for key in ("text", "message", "result", "output", "line"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value[:LIVE_TEXT_MAX]
    if event.type == "tool_use":
        return f"{data.get('name', 'tool')}"[:LIVE_TEXT_MAX]
    return ""


class Meter:
    """A run's usage: the summed deltas, the CLI's own totals, and the price of what has none.

    Runners report tokens, and a cost only when the CLI states one. Each usage is priced once,
    when it arrives, and only when it has no cost: with the model it names when the price table
    knows that model, else with the run's ``model`` (an unknown model costs 0). A ``final``
    without a cost takes the summed deltas' cost when they count the same tokens (so a run that
    used several models keeps each one's price), else its tokens are priced.
    """

    def __init__(self, model: str) -> None:
        self.model = model
        self.delta = Usage()  # sum of the (priced) per-message deltas
        self.final: Usage | None = None  # the CLI's own totals, when it reported them

    @property
    def usage(self) -> Usage:
        """Best known totals: the CLI's final figures when present, else the summed deltas."""
        return self.final if self.final is not None else self.delta

    def add(self, usage: Usage) -> Usage:
        """Count a delta; returns it priced."""
        usage = self._priced(usage)
        self.delta = self.delta + usage
        return usage

    def set_final(self, final: Usage) -> Usage:
        """Take the CLI's own totals (they win over the summed deltas); returns them priced."""
        if final.cost_usd is None and self.delta.cost_usd is not None and final.same_tokens(self.delta):
            final = replace(final, cost_usd=self.delta.cost_usd)
        self.final = self._priced(final)
        return self.final

    def _priced(self, usage: Usage) -> Usage:
        if usage.cost_usd is not None:
            return usage
        model = usage.model if usage.model and pricing.is_priced(usage.model) else self.model
        try:
            cost = Decimal(pricing.price(model, usage))
        except Exception:  # a broken price table must not kill the run
            log.exception("pricing failed for model %r", model)
            return usage
        return replace(usage, cost_usd=cost)


class DbEventSink:
    """Stores the events of one run. Used from one thread (the run's worker)."""

    def __init__(
        self,
        *,
        run: Run,
        org: Org,
        issue_key: str | None,
        model: str,
        remaining: Remaining | None = None,
        redactor: Redactor | None = None,
        shutdown: threading.Event | None = None,
    ) -> None:
        self.run = run
        self.org = org
        self.issue_key = issue_key
        self.model = model
        self.remaining = remaining or Remaining(None, None)
        self.redactor = redactor or Redactor(())
        self.shutdown = shutdown
        self.seq = 0
        self.meter = Meter(model)
        self.num_turns: int | None = None
        self.result_error = False  # the CLI's final result said is_error
        self.result_text = ""
        # The agent's own words (text and result events, redacted), the last TEXT_TAIL_MAX characters:
        # where a judge's answer and an agent's closing reflection are read from.
        self.text_tail = ""
        self.stop_reason: str | None = None
        self._cancel_checked = 0.0

    # --- metering -------------------------------------------------------------------
    @property
    def usage(self) -> Usage:
        """Best known totals, priced (see :class:`Meter`)."""
        return self.meter.usage

    def usage_fields(self, usage: Usage | None = None) -> dict[str, Any]:
        usage = usage or self.usage
        return {
            "tokens_in": usage.tokens_in,
            "tokens_out": usage.tokens_out,
            "tokens_cache_read": usage.cache_read,
            "tokens_cache_write": usage.cache_write,
            "cost_usd": (usage.cost_usd or Decimal(0)).quantize(Decimal("0.000001")),
        }

    def _over_budget(self, usage: Usage) -> bool:
        if self.remaining.tokens is not None and usage.tokens_total > self.remaining.tokens:
            return True
        return self.remaining.cost_usd is not None and (usage.cost_usd or Decimal(0)) > self.remaining.cost_usd

    # --- EventSink ------------------------------------------------------------------
    def started(self, pid: int) -> None:
        start = process_start_ticks(pid)
        Run.objects.filter(pk=self.run.pk).update(pid=pid, pid_start=start)
        self.run.pid, self.run.pid_start = pid, start

    def emit(self, event: ParsedEvent) -> None:
        delta = self.meter.add(event.usage) if event.usage is not None else None
        if event.final is not None:
            self.meter.set_final(event.final)
        metered = event.usage is not None or event.final is not None
        if event.type == "result":
            turns = event.data.get("num_turns")
            if isinstance(turns, int):
                self.num_turns = turns
            if event.is_error:
                self.result_error = True
            text = event.data.get("result") or event.data.get("text")
            if isinstance(text, str):
                self.result_text = self.redactor.text(text)[:2000]
        if event.type in ("text", "result"):
            said = event.data.get("text") if event.type == "text" else event.data.get("result")
            if isinstance(said, str) and said.strip():
                self.text_tail = (self.text_tail + "\n" + self.redactor.text(said))[-TEXT_TAIL_MAX:]
        self.seq += 1
        data = _cap(self.redactor.data(dict(event.data)))
        if event.is_error:
            data["is_error"] = True
        if delta is not None:
            data.setdefault("usage", _usage_dict(delta))
        with transaction.atomic():
            RunEvent.objects.create(run_id=self.run.pk, seq=self.seq, type=event.type[:30], data=data)
            usage = self.usage if metered else None
            if usage is not None:
                fields = self.usage_fields(usage)
                Run.objects.filter(pk=self.run.pk).update(**fields)
                for name, value in fields.items():
                    setattr(self.run, name, value)
            event_publish(
                org=self.org,
                type=EventType.RUN_EVENT,
                data={
                    "run_id": self.run.pk,
                    "issue_key": self.issue_key,
                    "agent_id": self.run.agent_id,
                    "seq": self.seq,
                    "type": event.type,
                    "text": _summary(ParsedEvent(event.type, data)),
                    "is_error": event.is_error,
                },
            )
        if usage is not None and self.stop_reason is None and self._over_budget(usage):
            self.stop_reason = "budget_exceeded"

    def should_stop(self) -> str | None:
        if self.stop_reason:
            return self.stop_reason
        if self.shutdown is not None and self.shutdown.is_set():
            self.stop_reason = "cancelled"
            return self.stop_reason
        now = time.monotonic()
        if now - self._cancel_checked >= CANCEL_CHECK_S:
            self._cancel_checked = now
            try:
                if Run.objects.filter(pk=self.run.pk, cancel_requested=True).exists():
                    self.stop_reason = "cancelled"
            except Exception:  # a DB hiccup must not stop a run; check again later
                log.exception("cancel check failed for run %s", self.run.pk)
                close_old_connections()
        return self.stop_reason


def _usage_dict(usage: Usage) -> dict[str, Any]:
    return {
        "tokens_in": usage.tokens_in,
        "tokens_out": usage.tokens_out,
        "cache_read": usage.cache_read,
        "cache_write": usage.cache_write,
        "cost_usd": None if usage.cost_usd is None else str(usage.cost_usd),
    }

"""A work block's burndown: per day of its cycle, how many of its issues were still open, rebuilt from history.

The history is the activity trail: ``moved`` rows (``{"from", "to"}``) for status changes and ``updated``
rows whose ``changes`` hold ``work_block: [old_id, new_id]`` for issues entering or leaving a block. An
issue with no such row has been in its current block since it was created. Issues deleted since are
left out (their rows are gone); an archived issue leaves the block the moment it was archived. The block
is named by id: issues cannot import blocks (sibling apps).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from issues.models import TERMINAL_STATUSES, Issue
from orgs.models import Activity, Org


@dataclass(frozen=True)
class BurndownDay:
    """The block at the end of ``day`` (or now, for today)."""

    day: date
    scope: int  # issues in the block
    remaining: int  # of those, not done, cancelled or won't do
    added: int  # issues that entered the block that day
    removed: int  # issues that left it that day


@dataclass(frozen=True)
class Burndown:
    start: date
    end: date
    days: list[BurndownDay] = field(default_factory=list)  # start … min(end, today); empty before the start

    @property
    def span(self) -> int:
        """Days from the start to the end (the ideal line runs over this many steps)."""
        return (self.end - self.start).days

    @property
    def start_scope(self) -> int:
        """Scope on the first day: where the ideal line starts (it ends at 0 on the last day)."""
        return self.days[0].scope if self.days else 0


@dataclass
class _Track:
    """One issue's history, as sorted (moment, value) steps."""

    created_at: datetime
    status_now: str
    in_block_now: bool
    archived_at: datetime | None = None
    statuses: list[tuple[datetime, str, str]] = field(default_factory=list)  # (at, from, to)
    membership: list[tuple[datetime, bool, bool]] = field(default_factory=list)  # (at, was in, is in)

    def status_at(self, moment: datetime) -> str:
        i = bisect.bisect_right([at for at, _, _ in self.statuses], moment)
        if i:
            return self.statuses[i - 1][2]
        return self.statuses[0][1] if self.statuses else self.status_now

    def in_block_at(self, moment: datetime) -> bool:
        if moment < self.created_at or (self.archived_at is not None and moment >= self.archived_at):
            return False
        i = bisect.bisect_right([at for at, _, _ in self.membership], moment)
        if i:
            return self.membership[i - 1][2]
        return self.membership[0][1] if self.membership else self.in_block_now


def _day_end(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _block_change(details: Any) -> tuple[Any, Any] | None:
    change = (details or {}).get("changes", {}).get("work_block") if isinstance(details, dict) else None
    if isinstance(change, list) and len(change) == 2:
        return change[0], change[1]
    return None


def work_block_burndown(*, org: Org, block_id: int, start: date, end: date, now: datetime | None = None) -> Burndown:
    """The burndown of block ``block_id`` from ``start`` to ``end`` (both inclusive), in at most four queries.

    Each day is measured at its end in the current time zone (today: at ``now``); days after today
    are not in ``days`` yet. ``added``/``removed`` count the issues that entered or left that day.
    """
    now = now or timezone.now()
    tracks: dict[str, _Track] = {}
    for key, status, created_at, archived_at in Issue.objects.filter(org=org, work_block_id=block_id).values_list(
        "key", "status", "created_at", "archived_at"
    ):
        tracks[key] = _Track(created_at=created_at, status_now=status, in_block_now=True, archived_at=archived_at)
    moves: dict[str, list[tuple[datetime, bool, bool]]] = defaultdict(list)
    for key, at, details in (
        Activity.objects.filter(
            org=org, object_type="issue", verb="updated", details__changes__has_key="work_block", created_at__lte=now
        )
        .order_by("created_at", "id")
        .values_list("object_id", "created_at", "details")
    ):
        change = _block_change(details)
        if change is not None and block_id in change:
            moves[key].append((at, change[0] == block_id, change[1] == block_id))
    departed = [key for key in moves if key not in tracks]
    if departed:
        for key, status, created_at, archived_at in Issue.objects.filter(org=org, key__in=departed).values_list(
            "key", "status", "created_at", "archived_at"
        ):
            tracks[key] = _Track(created_at=created_at, status_now=status, in_block_now=False, archived_at=archived_at)
    for key, steps in moves.items():
        if key in tracks:
            tracks[key].membership = steps
    if tracks:
        for key, at, details in (
            Activity.objects.filter(org=org, object_type="issue", verb="moved", object_id__in=list(tracks))
            .order_by("created_at", "id")
            .values_list("object_id", "created_at", "details")
        ):
            if isinstance(details, dict) and "from" in details and "to" in details:
                tracks[key].statuses.append((at, str(details["from"]), str(details["to"])))
    days: list[BurndownDay] = []
    today = timezone.localdate(now)
    previous = {key for key, track in tracks.items() if track.in_block_at(_day_end(start - timedelta(days=1)))}
    day = start
    while day <= end and day <= today:
        moment = min(_day_end(day), now)
        inside = {key for key, track in tracks.items() if track.in_block_at(moment)}
        remaining = sum(1 for key in inside if tracks[key].status_at(moment) not in TERMINAL_STATUSES)
        days.append(
            BurndownDay(
                day=day,
                scope=len(inside),
                remaining=remaining,
                added=len(inside - previous),
                removed=len(previous - inside),
            )
        )
        previous = inside
        day += timedelta(days=1)
    return Burndown(start=start, end=end, days=days)

"""Writes for work blocks (sprints) and apex blocks (strategic goals), and the alignment score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.selectors import is_ceo
from approvals.models import Approval, ApprovalStatus
from approvals.services import approval_create
from blocks.models import ApexBlock, ApexStatus, WorkBlock, WorkBlockStatus
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from orgs.events import EventType, event_publish
from orgs.models import Org
from orgs.services import activity_record, require_member
from orgs.unset import UNSET, Unset

WORK_BLOCK_TRANSITIONS: dict[str, tuple[str, ...]] = {
    WorkBlockStatus.PROPOSED: (WorkBlockStatus.ACTIVE, WorkBlockStatus.CANCELLED),
    WorkBlockStatus.ACTIVE: (WorkBlockStatus.READY, WorkBlockStatus.CANCELLED),
    WorkBlockStatus.READY: (WorkBlockStatus.SHIPPED, WorkBlockStatus.ACTIVE, WorkBlockStatus.CANCELLED),
    WorkBlockStatus.SHIPPED: (),
    WorkBlockStatus.CANCELLED: (),
}


@dataclass(frozen=True)
class Alignment:
    aligned: int
    total: int

    @property
    def percent(self) -> int | None:
        """Whole percent of open work blocks tied to an active goal; None when there are none."""
        return round(self.aligned * 100 / self.total) if self.total else None


def alignment_score(org: Org) -> Alignment:
    """Share of *active and ready* work blocks linked to an *active* apex block."""
    open_blocks = WorkBlock.objects.filter(org=org, status__in=[WorkBlockStatus.ACTIVE, WorkBlockStatus.READY])
    total = open_blocks.count()
    aligned = open_blocks.filter(apex_block__status=ApexStatus.ACTIVE).count() if total else 0
    return Alignment(aligned=aligned, total=total)


def _clean(value: str, field: str, *, required: bool = False, limit: int = 200) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"{field} is required.", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters.", field=field)
    return value


def clean_date(value: date | str | None, field: str) -> date | None:
    """A calendar date from a ``date`` or an ISO ``YYYY-MM-DD`` string; blank is None."""
    if value is None or isinstance(value, date):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field} must be a date like 2026-12-01.", field=field) from None


# A cycle is weeks long; the bounds keep the burndown's day-by-day walk and date arithmetic sane.
MAX_CYCLE_DAYS = 366
EARLIEST_YEAR, LATEST_YEAR = 2000, 9000


def _check_dates(start: date | None, end: date | None) -> None:
    for name, day in (("start_date", start), ("end_date", end)):
        if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise InvalidInput(f"{name} must be between {EARLIEST_YEAR} and {LATEST_YEAR}.", field=name)
    if start is not None and end is not None:
        if end <= start:
            raise InvalidInput(
                f"The end date ({end.isoformat()}) must be after the start date ({start.isoformat()}).",
                field="end_date",
            )
        if (end - start).days > MAX_CYCLE_DAYS:
            raise InvalidInput(f"A cycle lasts at most {MAX_CYCLE_DAYS} days.", field="end_date")


def _check_apex(org: Org, apex: ApexBlock | None) -> None:
    if apex is not None and apex.org_id != org.pk:
        raise InvalidInput("That apex block belongs to another org.", field="apex_block")


def _require_board_or_ceo(actor: Actor) -> None:
    if actor.agent is not None and not is_ceo(actor.agent):
        raise Forbidden("Only the board or the CEO may change work blocks and goals.")


def require_block_editor(actor: Actor) -> None:
    """Forbidden unless ``actor`` is the board or the CEO (who plan work blocks and their issues)."""
    _require_board_or_ceo(actor)


def _publish(block: WorkBlock, **extra: Any) -> None:
    event_publish(
        org=block.org,
        type=EventType.WORK_BLOCK_UPDATED,
        data={"id": block.pk, "title": block.title, "status": block.status, **extra},
    )


@transaction.atomic
def work_block_create(
    *,
    actor: Actor,
    org: Org,
    title: str,
    goal: str = "",
    acceptance_criteria: str = "",
    north_star_metric: str = "",
    north_star_target: str = "",
    apex_block: ApexBlock | None = None,
    start_date: date | str | None = None,
    end_date: date | str | None = None,
) -> WorkBlock:
    """Propose a work block (it starts as ``proposed``). Any agent of the org may propose.

    ``start_date`` and ``end_date`` make it a cycle; the end must be after the start (InvalidInput, field
    ``end_date``).
    """
    require_member(actor, org.pk)
    _check_apex(org, apex_block)
    start, end = clean_date(start_date, "start_date"), clean_date(end_date, "end_date")
    _check_dates(start, end)
    block = WorkBlock.objects.create(
        org=org,
        title=_clean(title, "title", required=True),
        goal=_clean(goal, "goal", limit=20_000),
        acceptance_criteria=_clean(acceptance_criteria, "acceptance_criteria", limit=20_000),
        north_star_metric=_clean(north_star_metric, "north_star_metric"),
        north_star_target=_clean(north_star_target, "north_star_target"),
        apex_block=apex_block,
        start_date=start,
        end_date=end,
    )
    activity_record(org=org, actor=actor, verb="proposed", obj=block)
    _publish(block, created=True)
    return block


@transaction.atomic
def work_block_update(
    *,
    actor: Actor,
    block: WorkBlock,
    title: str | Unset = UNSET,
    goal: str | Unset = UNSET,
    acceptance_criteria: str | Unset = UNSET,
    north_star_metric: str | Unset = UNSET,
    north_star_target: str | Unset = UNSET,
    apex_block: ApexBlock | None | Unset = UNSET,
    start_date: date | str | None | Unset = UNSET,
    end_date: date | str | None | Unset = UNSET,
) -> WorkBlock:
    """Change the given fields (only those); board or CEO. The end date must stay after the start date."""
    require_member(actor, block.org_id)
    _require_board_or_ceo(actor)
    changes: dict[str, Any] = {}
    texts = {
        "title": (title, 200),
        "goal": (goal, 20_000),
        "acceptance_criteria": (acceptance_criteria, 20_000),
        "north_star_metric": (north_star_metric, 200),
        "north_star_target": (north_star_target, 200),
    }
    for field, (value, limit) in texts.items():
        if value is UNSET:
            continue
        cleaned = _clean(value, field, required=field == "title", limit=limit)
        if cleaned != getattr(block, field):
            changes[field] = [getattr(block, field), cleaned]
            setattr(block, field, cleaned)
    if apex_block is not UNSET:
        _check_apex(block.org, apex_block)
        new_id = apex_block.pk if apex_block else None
        if new_id != block.apex_block_id:
            changes["apex_block"] = [block.apex_block_id, new_id]
            block.apex_block = apex_block
    start = block.start_date if start_date is UNSET else clean_date(start_date, "start_date")
    end = block.end_date if end_date is UNSET else clean_date(end_date, "end_date")
    _check_dates(start, end)
    for name, day in (("start_date", start), ("end_date", end)):
        old_day: date | None = getattr(block, name)
        if day != old_day:
            changes[name] = [old_day and old_day.isoformat(), day and day.isoformat()]
            setattr(block, name, day)
    if changes:
        # Only the edited columns: a stale instance must not undo a concurrent status move.
        block.save(update_fields=[*changes, "updated_at"])
        activity_record(org=block.org, actor=actor, verb="updated", obj=block, details={"changes": changes})
        _publish(block, changes=sorted(changes))
    return block


# Moves only humans make; agents ask for them with work_block_request_transition.
GATED_MOVES: dict[tuple[str, str], str] = {
    (WorkBlockStatus.PROPOSED, WorkBlockStatus.ACTIVE): "work_block_activate",
    (WorkBlockStatus.READY, WorkBlockStatus.SHIPPED): "work_block_ship",
}


def gated_approval_kind(old: str, to: str) -> str | None:
    """The approval kind a move needs when an agent asks for it, or None for a free move."""
    return GATED_MOVES.get((old, to))


@transaction.atomic
def work_block_request_transition(*, actor: Actor, block: WorkBlock, to: str, reason: str = "") -> Any:
    """An agent asks the humans to activate or ship a block: returns the (pending) Approval.

    A pending request for the same move is reused, so asking twice never makes two.
    """

    require_member(actor, block.org_id)
    _require_board_or_ceo(actor)
    kind = gated_approval_kind(block.status, to)
    if kind is None:
        raise InvalidInput(f"Moving work block {block.title!r} from {block.status} to {to} needs no approval.")
    pending = Approval.objects.filter(work_block=block, kind=kind, status=ApprovalStatus.PENDING).first()
    if pending is not None:
        return pending
    verb = "Activate" if to == WorkBlockStatus.ACTIVE else "Ship"
    return approval_create(
        actor=actor,
        org=block.org,
        kind=kind,
        title=f"{verb} work block {block.title!r}"[:300],
        reason=reason or f"{actor} asks to {verb.lower()} {block.title!r}. Goal: {block.goal or '(none given)'}",
        work_block=block,
    )


@transaction.atomic
def work_block_transition(*, actor: Actor, block: WorkBlock, to: str) -> WorkBlock:
    """Move a work block through proposed → active → ready → shipped (+ cancelled, ready → active).

    A second active block in the org is refused with Conflict (code ``active_block_exists``).
    """
    require_member(actor, block.org_id)
    _require_board_or_ceo(actor)
    old = block.status
    if to not in WorkBlockStatus.values:
        raise InvalidInput(f"Unknown work block status {to!r}.", field="status")
    if to == old:
        return block
    allowed = WORK_BLOCK_TRANSITIONS.get(old, ())
    if to not in allowed:
        where = ", ".join(allowed) if allowed else f"nowhere ({old} is final)"
        raise Conflict(
            f"Work block {block.title!r} cannot move from {old} to {to}. Allowed from {old}: {where}.",
            code="illegal_transition",
            allowed=list(allowed),
            current=old,
        )
    if actor.agent is not None and gated_approval_kind(old, to):
        raise Forbidden(
            f"Moving work block {block.title!r} from {old} to {to} needs a human decision. As an agent, "
            "request it (PATCH with the status creates the approval) and you will be woken when it is decided.",
            code="approval_required",
        )
    if to == WorkBlockStatus.ACTIVE:
        other = WorkBlock.objects.filter(org=block.org, status=WorkBlockStatus.ACTIVE).exclude(pk=block.pk).first()
        if other is not None:
            raise Conflict(
                f"Work block {other.title!r} is already active; ship or cancel it first.",
                code="active_block_exists",
            )
    now = timezone.now()
    fields: dict[str, Any] = {"status": to, "updated_at": now}
    if to == WorkBlockStatus.ACTIVE:
        if block.activated_at is None:
            fields["activated_at"] = now
        fields["completed_at"] = None
    if to in {WorkBlockStatus.SHIPPED, WorkBlockStatus.CANCELLED}:
        fields["completed_at"] = now
    try:
        with transaction.atomic():
            updated = WorkBlock.objects.filter(pk=block.pk, status=old).update(**fields)
    except IntegrityError as exc:  # the partial unique index caught a concurrent activation
        raise Conflict("Another work block was activated meanwhile.", code="active_block_exists") from exc
    if not updated:
        raise Conflict(f"Work block {block.title!r} changed meanwhile; reload and try again.", code="stale")
    for name, value in fields.items():
        setattr(block, name, value)
    activity_record(org=block.org, actor=actor, verb="moved", obj=block, details={"from": old, "to": to})
    _publish(block, from_status=old)
    return block


@transaction.atomic
def apex_block_create(*, actor: Actor, org: Org, title: str, goal: str = "") -> ApexBlock:
    require_member(actor, org.pk)
    _require_board_or_ceo(actor)
    apex = ApexBlock.objects.create(
        org=org, title=_clean(title, "title", required=True), goal=_clean(goal, "goal", limit=20_000)
    )
    activity_record(org=org, actor=actor, verb="created", obj=apex)
    event_publish(
        org=org, type=EventType.APEX_BLOCK_UPDATED, data={"id": apex.pk, "title": apex.title, "status": apex.status}
    )
    return apex


@transaction.atomic
def apex_block_update(
    *,
    actor: Actor,
    apex: ApexBlock,
    title: str | Unset = UNSET,
    goal: str | Unset = UNSET,
    status: str | Unset = UNSET,
) -> ApexBlock:
    require_member(actor, apex.org_id)
    _require_board_or_ceo(actor)
    changes: dict[str, Any] = {}
    if title is not UNSET:
        cleaned = _clean(title, "title", required=True)
        if cleaned != apex.title:
            changes["title"] = [apex.title, cleaned]
            apex.title = cleaned
    if goal is not UNSET:
        cleaned = _clean(goal, "goal", limit=20_000)
        if cleaned != apex.goal:
            changes["goal"] = [apex.goal, cleaned]
            apex.goal = cleaned
    if status is not UNSET:
        if status not in ApexStatus.values:
            raise InvalidInput("status must be active or archived.", field="status")
        if status != apex.status:
            changes["status"] = [apex.status, status]
            apex.status = status
    if changes:
        apex.save(update_fields=[*changes, "updated_at"])
        activity_record(org=apex.org, actor=actor, verb="updated", obj=apex, details={"changes": changes})
        event_publish(
            org=apex.org,
            type=EventType.APEX_BLOCK_UPDATED,
            data={"id": apex.pk, "title": apex.title, "status": apex.status},
        )
    return apex

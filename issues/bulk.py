"""Bulk actions on a selection of issues: one service per action, each looping the single-issue service.

No rule is implemented twice: every issue goes through ``issue_transition`` or ``issue_update``
exactly as a change on its own page would (permission, lifecycle, validation, activity, live
event). An issue the service refuses is reported with the reason and left as it was; the others
are changed. Each issue's change is its own savepoint, so a refusal never undoes the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from agents.models import Agent
from issues.models import Issue
from issues.selectors import issue_get_for
from issues.services import do_issue_update, issue_transition, issue_update
from orgs.actors import Actor
from orgs.errors import InvalidInput, MesaError
from orgs.models import Org
from orgs.services import require_member

if TYPE_CHECKING:
    from blocks.models import WorkBlock

MAX_BULK = 200


@dataclass
class BulkResult:
    """What a bulk action did: the keys it changed (or found already so) and the refused ones with the reason."""

    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def summary(self, what: str) -> str:
        """One sentence for a toast: how many changed, and each refusal with its reason."""
        head = f"{what}: {len(self.done)} issue{'s' if len(self.done) != 1 else ''} updated."
        if not self.refused:
            return head
        return head + " Refused: " + " ".join(f"{key}: {message}" for key, message in self.refused)


def _each(*, actor: Actor, org: Org, keys: list[str], change: Callable[[Issue], Any]) -> BulkResult:
    require_member(actor, org.pk)
    keys = list(dict.fromkeys(k.strip().upper() for k in keys if k.strip()))
    if not keys or len(keys) > MAX_BULK:
        raise InvalidInput(f"Select 1 to {MAX_BULK} issues.", field="keys")
    result = BulkResult()
    for key in keys:
        try:
            with transaction.atomic():
                change(issue_get_for(actor=actor, org=org, key=key))
        except MesaError as exc:
            result.refused.append((key, exc.message))
        else:
            result.done.append(key)
    return result


@transaction.atomic
def issues_bulk_transition(*, actor: Actor, org: Org, keys: list[str], to: str) -> BulkResult:
    """Move each issue ``keys`` names to status ``to`` where the lifecycle allows it; report the rest."""
    return _each(actor=actor, org=org, keys=keys, change=lambda i: issue_transition(actor=actor, issue=i, to=to))


@transaction.atomic
def issues_bulk_assign(*, actor: Actor, org: Org, keys: list[str], assignee: Agent | None) -> BulkResult:
    """Give each issue to ``assignee`` (None: unassign), as ``issue_update`` allows per issue."""
    return _each(
        actor=actor, org=org, keys=keys, change=lambda i: issue_update(actor=actor, issue=i, assignee=assignee)
    )


@transaction.atomic
def issues_bulk_set_priority(*, actor: Actor, org: Org, keys: list[str], priority: int) -> BulkResult:
    """Set each issue's priority (0-4; ``issue_update`` validates it)."""
    return _each(
        actor=actor, org=org, keys=keys, change=lambda i: issue_update(actor=actor, issue=i, priority=priority)
    )


@transaction.atomic
def issues_bulk_set_work_block(*, actor: Actor, org: Org, keys: list[str], work_block: WorkBlock | None) -> BulkResult:
    """Put each issue in ``work_block`` (None: take it out of its block)."""
    return _each(
        actor=actor, org=org, keys=keys, change=lambda i: issue_update(actor=actor, issue=i, work_block=work_block)
    )


@transaction.atomic
def issues_bulk_label(*, actor: Actor, org: Org, keys: list[str], label: str, add: bool) -> BulkResult:
    """Add the label named ``label`` to each issue (``add``), or take it off; other labels stay."""

    def change(issue: Issue) -> None:
        names = [lab.name for lab in issue.labels.all()]
        wanted = [*names, label] if add and label not in names else [n for n in names if n != label or add]
        issue_update(actor=actor, issue=issue, labels=wanted)

    if not label.strip():
        raise InvalidInput("Choose a label.", field="label")
    return _each(actor=actor, org=org, keys=keys, change=change)


@transaction.atomic
def do_issues_set_work_block(*, actor: Actor, issues: list[Issue], work_block: WorkBlock | None) -> int:
    """Put each of ``issues`` into ``work_block`` (None: take them out), all or none; returns how many moved.

    Each one goes through do_issue_update, so the rules (same org, open block) and the activity and
    event per issue are the single-issue ones. Does not ask whether ``actor`` may edit the issues:
    a block's membership is governed by the block's permission, which the caller checks
    (``blocks.services.require_block_editor``).
    """
    moved = 0
    for issue in issues:
        if issue.work_block_id != (work_block.pk if work_block else None):
            do_issue_update(actor=actor, issue=issue, work_block=work_block)
            moved += 1
    return moved

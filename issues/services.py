"""Writes for issues, their comments and labels (relations: ``issues/relations.py``).

Every rule about issues lives here once; the HTML views, the API and the
Telegram bot all call these functions.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Length
from django.utils import timezone

from agents.models import Agent
from agents.selectors import is_ceo
from approvals.models import Approval, ApprovalKind, ApprovalStatus
from approvals.services import approval_create, approvals_settle_pending
from issues.comments import do_comment_create
from issues.guards import completion_comment, delegation_cycle, evidence_missing
from issues.lifecycle import allowed_moves, is_allowed
from issues.models import (
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    Issue,
    IssueType,
    Label,
    Priority,
    Status,
)
from issues.permissions import edit_checked, require_edit
from issues.validation import (
    check_parent,
    check_work_block,
    clean_priority,
    clean_text,
    clean_title,
    clean_type,
    resolve_labels,
    same_org,
    shorten_title,
)
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from orgs.events import EventType, event_publish
from orgs.models import Org
from orgs.services import activity_record, require_member
from orgs.unset import UNSET, Unset

if TYPE_CHECKING:
    # Annotations only: issues and blocks are independent domain apps (an issue names its block by FK).
    from blocks.models import WorkBlock


def issue_event_data(issue: Issue, **extra: Any) -> dict[str, Any]:
    return {
        "key": issue.key,
        "id": issue.pk,
        "title": issue.title,
        "status": issue.status,
        "priority": issue.priority,
        "assignee": issue.assignee.slug if issue.assignee_id and issue.assignee else None,
        "assignee_id": issue.assignee_id,
        **extra,
    }


def find_open_duplicate(org: Org, title: str) -> Issue | None:
    """An open issue whose title equals ``title`` ignoring case and spacing."""
    normal = " ".join(title.split()).lower()
    candidates = Issue.objects.filter(org=org, status__in=OPEN_STATUSES, archived_at__isnull=True)
    if normal.isascii():
        candidates = candidates.filter(title__iexact=normal)
    else:
        # SQLite folds case for ASCII only, so iexact would miss "Über" vs "über": narrow by length instead.
        candidates = candidates.annotate(title_length=Length("title")).filter(title_length=len(normal))
    for candidate in candidates.only("id", "key", "title"):
        if " ".join(candidate.title.split()).lower() == normal:
            return candidate
    return None


def _allocate_number(org: Org) -> int:
    """Next issue number for ``org``: gapless and unique under concurrency.

    The conditional UPDATE takes the row's write lock (SQLite: the database
    lock held since BEGIN IMMEDIATE; Postgres: the row lock) until commit, so no
    two transactions read the same value, and a rollback returns the number.
    """
    Org.objects.filter(pk=org.pk).update(issue_seq=F("issue_seq") + 1)
    return Org.objects.filter(pk=org.pk).values_list("issue_seq", flat=True).get()


@transaction.atomic
def issue_create(
    *,
    actor: Actor,
    org: Org,
    title: str,
    description: str = "",
    acceptance_criteria: str = "",
    priority: int = Priority.NONE,
    type: str = IssueType.TASK,
    labels: list[str] | None = None,
    assignee: Agent | None = None,
    parent: Issue | None = None,
    work_block: WorkBlock | None = None,
) -> Issue:
    """Create an issue in ``todo`` with the next ``<PREFIX>-<n>`` key.

    Raises Conflict (code ``duplicate``, ``existing_key``) when an open issue has
    the same title.
    """
    if actor.agent is not None and actor.agent.org_id != org.pk:
        raise Forbidden("You can only create issues in your own org.")
    title = clean_title(title)
    description = clean_text(description, "description")
    acceptance_criteria = clean_text(acceptance_criteria, "acceptance_criteria")
    priority = clean_priority(priority)
    type = clean_type(type)
    same_org(org, assignee, "assignee")
    check_parent(org, parent)
    check_work_block(org, work_block)
    if actor.agent is not None:
        loop = delegation_cycle(parent=parent, assignee=assignee, actor_agent=actor.agent)
        if loop:
            raise Conflict(loop, code="delegation_cycle")
    label_rows = resolve_labels(org, labels or [])
    # Serialise creations per org (the row lock is held until commit; SQLite's BEGIN IMMEDIATE
    # already does this) so the duplicate check sees every issue a concurrent creation committed.
    list(Org.objects.select_for_update(no_key=True).filter(pk=org.pk).values_list("pk", flat=True))
    duplicate = find_open_duplicate(org, title)
    if duplicate is not None:
        raise Conflict(
            f"{duplicate.key} already has this title and is still open.",
            code="duplicate",
            existing_key=duplicate.key,
        )
    number = _allocate_number(org)
    org.refresh_from_db(fields=["issue_prefix"])
    issue = Issue.objects.create(
        org=org,
        number=number,
        key=f"{org.issue_prefix}-{number}",
        title=title,
        description=description,
        acceptance_criteria=acceptance_criteria,
        priority=priority,
        type=type,
        assignee=assignee,
        parent=parent,
        work_block=work_block,
        **actor.author_fields("created_by"),
    )
    if label_rows:
        issue.labels.set(label_rows)
    activity_record(org=org, actor=actor, verb="created", obj=issue)
    event_publish(
        org=org,
        type=EventType.ISSUE_CREATED,
        data=issue_event_data(issue, actor_agent_id=actor.agent.pk if actor.agent else None),
    )
    return issue


@transaction.atomic
def do_issue_transition(*, actor: Actor, issue: Issue, to: str, comment: str = "") -> Issue:
    """Move ``issue`` to status ``to`` through the lifecycle, without asking whether ``actor`` may edit it.

    Only for callers that already decided that ``actor`` may make this move (an edit
    checked once, an approval its decider was allowed to decide); ``actor`` is still who
    the activity, the comment and the event record. Raises Conflict (code
    ``illegal_transition``, listing ``allowed``) for a move the lifecycle forbids, and
    Conflict (code ``stale``) when the issue changed status meanwhile.
    """
    old = issue.status
    if to not in Status.values:
        raise InvalidInput(f"Unknown status {to!r}; statuses are {', '.join(Status.values)}.", field="status")
    if to == old:
        return issue
    if not is_allowed(old, to):
        allowed = list(allowed_moves(old))
        where = ", ".join(allowed) if allowed else f"nowhere ({old} is final)"
        raise Conflict(
            f"{issue.key} cannot move from {old} to {to}. Allowed from {old}: {where}.",
            code="illegal_transition",
            allowed=allowed,
            current=old,
        )
    if to == Status.IN_PROGRESS and issue.assignee_id is None:
        raise InvalidInput(f"{issue.key} has no assignee; assign it before starting it.", field="assignee")
    if to == Status.DONE and actor.agent is not None:
        missing = evidence_missing(issue, extra_text=comment)
        if missing:
            raise Conflict(missing, code="evidence_required")
    reason = ""
    if to == Status.CANCELLED:
        finished = completion_comment(issue)
        if finished is not None:
            reason = comment.strip()
            if not reason:
                raise Conflict(
                    f"{issue.key}'s assignee already reported the work as finished; give a reason to cancel it.",
                    code="cancellation_reason_required",
                    completion_comment_id=finished.pk,
                    completion_comment_excerpt=finished.body[:300],
                )
            comment = f"Cancellation reason: {reason}"
    now = timezone.now()
    fields: dict[str, Any] = {"status": to, "updated_at": now}
    if to == Status.IN_PROGRESS and issue.started_at is None:
        fields["started_at"] = now
    if to in TERMINAL_STATUSES:
        fields["completed_at"] = now
    # Conditional update: only moves the issue if nobody moved it since we read it.
    if not Issue.objects.filter(pk=issue.pk, status=old).update(**fields):
        current = Issue.objects.filter(pk=issue.pk).values_list("status", flat=True).first()
        raise Conflict(
            f"{issue.key} changed meanwhile (it is now {current}); reload and try again.",
            code="stale",
            current=current,
        )
    for name, value in fields.items():
        setattr(issue, name, value)
    details = {"from": old, "to": to, **({"reason": reason} if reason else {})}
    activity_record(org=issue.org, actor=actor, verb="moved", obj=issue, details=details)
    if comment.strip():
        do_comment_create(actor=actor, issue=issue, body=comment)
    _sync_board_review(actor=actor, issue=issue, old=old, to=to, comment=comment)
    event_publish(
        org=issue.org,
        type=EventType.ISSUE_UPDATED,
        data=issue_event_data(
            issue,
            changes=["status"],
            from_status=old,
            actor_agent_id=actor.agent.pk if actor.agent else None,
        ),
    )
    return issue


issue_transition = edit_checked(
    do_issue_transition,
    name="issue_transition",
    doc="Move ``issue`` to status ``to``, if ``actor`` may edit it (else Forbidden); then as do_issue_transition.",
)


def _sync_board_review(*, actor: Actor, issue: Issue, old: str, to: str, comment: str) -> None:
    """Escalating opens a board approval; deciding on the issue itself closes it.

    So the humans see every escalation in their approvals inbox (and Telegram),
    and an approval can never be decided after the issue has moved on.
    """

    if to == Status.BOARD_REVIEW:
        approval_create(
            actor=actor,
            org=issue.org,
            kind=ApprovalKind.BOARD_REVIEW,
            title=shorten_title(f"Board review: {issue.key} {issue.title}"),
            reason=comment.strip() or f"{actor} escalated {issue.key} to the board.",
            issue=issue,
        )
    elif old == Status.BOARD_REVIEW:
        approvals_settle_pending(
            actor=actor,
            pending=Approval.objects.filter(issue=issue, kind=ApprovalKind.BOARD_REVIEW),
            decision=ApprovalStatus.APPROVED if to == Status.DONE else ApprovalStatus.REJECTED,
            comment=f"Decided on the issue itself: moved to {to}.",
        )


@transaction.atomic
def do_issue_update(
    *,
    actor: Actor,
    issue: Issue,
    title: str | Unset = UNSET,
    description: str | Unset = UNSET,
    acceptance_criteria: str | Unset = UNSET,
    priority: int | Unset = UNSET,
    type: str | Unset = UNSET,
    labels: list[str] | Unset = UNSET,
    assignee: Agent | None | Unset = UNSET,
    parent: Issue | None | Unset = UNSET,
    work_block: WorkBlock | None | Unset = UNSET,
    unchanged_since: datetime | None = None,
) -> Issue:
    """Change the given fields (only those), leaving concurrent edits of other fields intact.

    ``unchanged_since``: the ``updated_at`` the editor saw. When the issue has changed since (someone
    else saved, commented or moved it), nothing is written and Conflict (``edit_conflict``) says so,
    so an editor's text never silently overwrites a newer version.

    Does not ask whether ``actor`` may edit ``issue``: only for callers that already decided
    (an edit checked once, a work block's editor moving issues in and out of it). ``actor``
    is still who the activity and the event record, and whose delegation loops are refused.
    """
    org = issue.org
    fields: dict[str, Any] = {}
    changes: dict[str, Any] = {}

    def change(name: str, old: Any, new: Any, shown_old: Any = None, shown_new: Any = None) -> None:
        if old != new:
            fields[name] = new
            changes[name] = [shown_old if shown_old is not None else old, shown_new if shown_new is not None else new]

    if title is not UNSET:
        change("title", issue.title, clean_title(title))
    if description is not UNSET:
        change("description", issue.description, clean_text(description, "description"))
    if acceptance_criteria is not UNSET:
        change("acceptance_criteria", issue.acceptance_criteria, clean_text(acceptance_criteria, "acceptance_criteria"))
    if priority is not UNSET:
        change("priority", issue.priority, clean_priority(priority))
    if type is not UNSET:
        change("type", issue.type, clean_type(type))
    if assignee is not UNSET:
        same_org(org, assignee, "assignee")
        old_slug = issue.assignee.slug if issue.assignee_id and issue.assignee else None
        new_id = assignee.pk if assignee else None
        if issue.assignee_id != new_id:
            if new_id is None and issue.status in (Status.IN_PROGRESS, Status.BLOCKED):
                # Started work needs a holder (in_progress requires an assignee); giving it back is a release.
                raise InvalidInput(
                    f"{issue.key} is {issue.status}; release it (back to todo) instead of removing its assignee, "
                    "or assign someone else.",
                    field="assignee",
                    code="use_release",
                )
            if actor.agent is not None:
                ancestors_from = issue.parent if parent is UNSET else parent
                loop = delegation_cycle(parent=ancestors_from, assignee=assignee, actor_agent=actor.agent)
                if loop:
                    raise Conflict(loop, code="delegation_cycle")
            fields["assignee_id"] = new_id
            changes["assignee"] = [old_slug, assignee.slug if assignee else None]
    if parent is not UNSET:
        check_parent(org, parent, issue)
        new_id = parent.pk if parent else None
        if issue.parent_id != new_id:
            fields["parent_id"] = new_id
            changes["parent"] = [issue.parent.key if issue.parent_id and issue.parent else None, parent and parent.key]
    if work_block is not UNSET:
        check_work_block(org, work_block)
        new_id = work_block.pk if work_block else None
        if issue.work_block_id != new_id:
            fields["work_block_id"] = new_id
            changes["work_block"] = [issue.work_block_id, new_id]
    label_rows: list[Label] | None = None
    if labels is not UNSET:
        label_rows = resolve_labels(org, labels)
        old_names = sorted(lab.name for lab in issue.labels.all())
        new_names = sorted(lab.name for lab in label_rows)
        if old_names != new_names:
            changes["labels"] = [old_names, new_names]
        else:
            label_rows = None
    if not changes:
        return issue
    fields["updated_at"] = timezone.now()
    rows = Issue.objects.filter(pk=issue.pk)
    if unchanged_since is not None:
        rows = rows.filter(updated_at=unchanged_since)
    if not rows.update(**fields) and unchanged_since is not None:
        raise Conflict(
            f"{issue.key} was changed by someone else since you opened the editor; your text is kept here. "
            "Copy it, reload the page and apply it again.",
            code="edit_conflict",
        )
    for name, value in fields.items():
        setattr(issue, name, value)
    if "assignee_id" in fields and assignee is not UNSET:
        issue.assignee = assignee
    if "parent_id" in fields and parent is not UNSET:
        issue.parent = parent
    if "work_block_id" in fields and work_block is not UNSET:
        issue.work_block = work_block
    if label_rows is not None:
        issue.labels.set(label_rows)
    activity_record(org=org, actor=actor, verb="updated", obj=issue, details={"changes": changes})
    event_publish(
        org=org,
        type=EventType.ISSUE_UPDATED,
        data=issue_event_data(issue, changes=sorted(changes), actor_agent_id=actor.agent.pk if actor.agent else None),
    )
    return issue


issue_update = edit_checked(
    do_issue_update,
    name="issue_update",
    doc="Change the given fields, if ``actor`` may edit ``issue`` (else Forbidden); then as do_issue_update.",
)


@transaction.atomic
def issue_edit(
    *,
    actor: Actor,
    issue: Issue,
    status: str = "",
    comment: str = "",
    unchanged_since: datetime | None = None,
    **changes: Any,
) -> Issue:
    """Change fields, move the status and add a comment as one edit: all of it or none of it.

    ``unchanged_since``: refuse the field changes (Conflict) if the issue changed after it (see do_issue_update).

    The one path for "edit an issue" from the API's PATCH and the issue page; the
    permission is checked once, then each step uses its own service.
    """
    require_edit(actor, issue)
    if changes:
        issue = do_issue_update(actor=actor, issue=issue, unchanged_since=unchanged_since, **changes)
    if status and status != issue.status:
        issue = do_issue_transition(actor=actor, issue=issue, to=status, comment=comment)
    elif comment.strip():
        do_comment_create(actor=actor, issue=issue, body=comment)
    return issue


@transaction.atomic
def issue_delete(*, actor: Actor, issue: Issue) -> None:
    """Delete an issue (board and CEO only); its sub-issues become top-level."""

    require_member(actor, issue.org_id)

    if actor.agent is not None and not is_ceo(actor.agent):
        raise Forbidden("Only the board or the CEO may delete issues.")
    if not actor.board and actor.agent is None:
        raise Forbidden("Only the board or the CEO may delete issues.")
    org, key = issue.org, issue.key
    activity_record(org=org, actor=actor, verb="deleted", obj=issue, details={"title": issue.title})
    issue.delete()
    event_publish(org=org, type=EventType.ISSUE_DELETED, data={"key": key})

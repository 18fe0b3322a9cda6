"""Claiming work: the atomic checkout of a todo issue and giving it back.

Split from ``issues/services.py`` (same conventions: keyword-only, explicit actor,
conditional updates); every interface calls these.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.selectors import is_ceo, manages
from issues.comments import do_comment_create
from issues.models import Issue, Status
from issues.services import issue_event_data
from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput
from orgs.events import EventType, event_publish
from orgs.services import activity_record


def issue_checkout(*, actor: Actor, issue: Issue) -> Issue:
    """Claim ``issue`` for the calling agent: ``todo`` → ``in_progress`` and assigned, in one conditional update.

    Of many concurrent checkouts exactly one wins; the others get Conflict
    (code ``already_claimed`` / ``not_claimable``). Checking out an issue the
    caller already holds in progress is a no-op. An issue assigned to another
    agent is Forbidden, except for the CEO, who may take it over. Board actors
    are not agents and cannot hold work (InvalidInput ``not_an_agent``).

    The checks that need no lock run before the write transaction, so losers of
    a race on SQLite do not queue for the write lock just to be told no.
    """

    agent = actor.agent
    if agent is None:
        raise InvalidInput(
            "Only an agent can check out an issue; assign it with PATCH {'assignee': '<slug>'} instead.",
            code="not_an_agent",
        )
    if agent.org_id != issue.org_id:
        raise Forbidden("This issue belongs to another org.")
    if issue.archived_at is not None:
        raise Conflict(f"{issue.key} is archived; a board member restores it first.", code="archived")
    if issue.status == Status.IN_PROGRESS and issue.assignee_id == agent.pk:
        return issue
    # Status first: a loser of a race reads the winner's claim and must get 409, not 403.
    if issue.status != Status.TODO:
        raise Conflict(
            f"{issue.key} is {issue.status}, not todo; only todo issues can be checked out.",
            code="not_claimable",
            current=issue.status,
        )
    takeover = is_ceo(agent)
    if issue.assignee_id not in (None, agent.pk) and not takeover:
        holder = issue.assignee.slug if issue.assignee else "another agent"
        raise Forbidden(f"{issue.key} is assigned to {holder}; only they (or the CEO) can check it out.")
    now = timezone.now()
    with transaction.atomic():
        claim = Issue.objects.filter(pk=issue.pk, status=Status.TODO, archived_at__isnull=True)
        if not takeover:
            claim = claim.filter(Q(assignee__isnull=True) | Q(assignee=agent))
        won = claim.update(
            status=Status.IN_PROGRESS,
            assignee=agent,
            started_at=Coalesce(F("started_at"), Value(now)),
            updated_at=now,
        )
        if not won:
            row = Issue.objects.filter(pk=issue.pk).values("status", "assignee_id", "assignee__slug").first()
            if row and row["status"] == Status.IN_PROGRESS and row["assignee_id"] == agent.pk:
                issue.status, issue.assignee = Status.IN_PROGRESS, agent
                return issue
            current = str(row["status"]) if row else "deleted"
            winner = row["assignee__slug"] if row else None
            raise Conflict(
                f"{issue.key} was claimed meanwhile (it is now {current}"
                + (f", held by {winner}" if winner else "")
                + ").",
                code="already_claimed",
                current=current,
                holder=winner,
            )
        from_status, old_assignee = issue.status, issue.assignee.slug if issue.assignee_id and issue.assignee else None
        issue.status, issue.assignee, issue.updated_at = Status.IN_PROGRESS, agent, now
        issue.started_at = issue.started_at or now
        activity_record(
            org=issue.org,
            actor=actor,
            verb="checked out",
            obj=issue,
            details={"from": from_status, "to": Status.IN_PROGRESS, "previous_assignee": old_assignee},
        )
        event_publish(
            org=issue.org,
            type=EventType.ISSUE_UPDATED,
            data=issue_event_data(
                issue, changes=["assignee", "status"], from_status=from_status, actor_agent_id=agent.pk
            ),
        )
    return issue


def release_denial(actor: Actor, issue: Issue) -> str | None:
    """Why ``actor`` may not release ``issue``, or None: the holder, its managers, the CEO and the board may."""

    if actor.agent is None:
        return None if actor.board else "Only board members may release issues."
    agent = actor.agent
    if agent.org_id != issue.org_id:
        return "This issue belongs to another org."
    if issue.assignee_id == agent.pk or is_ceo(agent) or manages(agent, issue.assignee_id):
        return None
    holder = issue.assignee.slug if issue.assignee_id and issue.assignee else "nobody"
    return f"{issue.key} is held by {holder}; only the holder, its managers, the CEO or the board may release it."


def issue_release(*, actor: Actor, issue: Issue, comment: str = "") -> Issue:
    """Give a claimed issue back: ``in_progress`` / ``blocked`` → ``todo`` and unassigned.

    This deliberately steps outside the lifecycle table (which has no
    in_progress → todo move): releasing undoes a checkout, it is not progress.
    Raises Conflict ``not_held`` when the issue is not held, ``stale`` when it
    changed meanwhile.
    """
    reason = release_denial(actor, issue)
    if reason:
        raise Forbidden(reason)
    held = (Status.IN_PROGRESS, Status.BLOCKED)
    if issue.status not in held:
        raise Conflict(
            f"{issue.key} is {issue.status}; only in_progress or blocked issues can be released.",
            code="not_held",
            current=issue.status,
        )
    now = timezone.now()
    with transaction.atomic():
        if not Issue.objects.filter(pk=issue.pk, status=issue.status, assignee_id=issue.assignee_id).update(
            status=Status.TODO, assignee=None, updated_at=now
        ):
            current = Issue.objects.filter(pk=issue.pk).values_list("status", flat=True).first()
            raise Conflict(
                f"{issue.key} changed meanwhile (it is now {current}); reload and try again.",
                code="stale",
                current=current,
            )
        from_status = issue.status
        old_assignee = issue.assignee.slug if issue.assignee_id and issue.assignee else None
        issue.status, issue.assignee, issue.updated_at = Status.TODO, None, now
        activity_record(
            org=issue.org,
            actor=actor,
            verb="released",
            obj=issue,
            details={"from": from_status, "to": Status.TODO, "previous_assignee": old_assignee},
        )
        if comment.strip():
            # release_denial decided; the edit check would refuse the former holder of a now unassigned issue.
            do_comment_create(actor=actor, issue=issue, body=comment)
        event_publish(
            org=issue.org,
            type=EventType.ISSUE_UPDATED,
            data=issue_event_data(
                issue,
                changes=["assignee", "status"],
                from_status=from_status,
                actor_agent_id=actor.agent.pk if actor.agent else None,
            ),
        )
    return issue

"""Deciding a board review finishes the issue or sends it back (registered in ``IssuesConfig.ready``)."""

from __future__ import annotations

from approvals.models import Approval, ApprovalStatus
from approvals.registry import stale
from issues.models import Status
from issues.services import do_issue_transition
from orgs.actors import Actor


def board_review(approval: Approval, actor: Actor) -> None:
    """Approved → done; rejected → back to todo with the board's comment for the assignee.

    Recorded as ``actor``, the human who decided; deciding the approval was the permission.
    """
    issue = approval.issue
    if issue is None:
        return
    issue.refresh_from_db()
    if issue.status != Status.BOARD_REVIEW:
        raise stale(approval, f"{issue.key} is {issue.status}, no longer in board review")
    approved = approval.status == ApprovalStatus.APPROVED
    note = approval.decision_comment
    comment = f"The board {'approved' if approved else 'sent it back'}" + (f": {note}" if note else ".")
    do_issue_transition(actor=actor, issue=issue, to=Status.DONE if approved else Status.TODO, comment=comment)

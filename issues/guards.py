"""Guards of an honest review chain: evidence before ``done``, no delegation loops.

Paperclip's users complain of agents marking work done without doing it and of
issues bouncing between agents; these checks refuse both with a reason that
says what is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agents.models import Agent
from issues.models import Comment, CommentKind, Issue

# A link to a pull / merge request on GitHub, GitLab, Gitea/Forgejo or Bitbucket.
PR_LINK_RE = re.compile(r"https?://\S+/(?:pull|pulls|merge_requests|pull-requests)/\d+")

# Evidence that other apps hold (runners: a run on the issue whose diff is not empty). They register a
# check in their AppConfig.ready, so issues never imports the layers above it.
EvidenceCheck = Callable[[Issue], bool]
EVIDENCE_CHECKS: list[EvidenceCheck] = []


def register_evidence(check: EvidenceCheck) -> None:
    if check not in EVIDENCE_CHECKS:
        EVIDENCE_CHECKS.append(check)


def evidence_missing(issue: Issue, *, extra_text: str = "") -> str | None:
    """Why ``issue`` may not be marked done by an agent, or None when it has evidence.

    Evidence is an ``evidence`` comment, a run on the issue whose diff is not
    empty, or a linked pull request (a PR URL in the description, a comment, or
    ``extra_text`` — the comment sent with the move itself).
    """
    if PR_LINK_RE.search(extra_text):
        return None
    if Comment.objects.filter(issue=issue, kind=CommentKind.EVIDENCE).exists():
        return None
    if any(check(issue) for check in EVIDENCE_CHECKS):
        return None
    if PR_LINK_RE.search(issue.description or ""):
        return None
    for body in Comment.objects.filter(issue=issue, body__contains="http").values_list("body", flat=True):
        if PR_LINK_RE.search(body):
            return None
    return (
        f"{issue.key} has no evidence that the work was done: add an evidence comment (test output, what was "
        "verified), link a pull request, or finish a run on it that produced a diff. A human can still decide."
    )


def delegation_cycle(*, parent: Issue | None, assignee: Agent | None, actor_agent: Agent | None) -> str | None:
    """Why giving work under ``parent`` to ``assignee`` would loop, or None.

    Delegating an issue back to an agent that already holds one of its ancestors
    sends the work round in a circle. An agent taking a sub-issue itself is not
    delegation and is allowed.
    """
    if assignee is None or parent is None or (actor_agent is not None and assignee.pk == actor_agent.pk):
        return None
    seen: set[int] = set()
    cursor: Issue | None = parent
    while cursor is not None and cursor.pk not in seen:
        if cursor.assignee_id == assignee.pk:
            return (
                f"{assignee.slug} already holds {cursor.key}, an ancestor of this issue; delegating the work back "
                "to it would make a loop. Assign someone else or comment on the parent instead."
            )
        seen.add(cursor.pk)
        cursor = Issue.objects.filter(pk=cursor.parent_id).first() if cursor.parent_id else None
    return None


# What an assignee writes when it believes the work is finished (the original Mesa's list, minus its bare
# "done", which also matched "not done yet"). Headings count only as markdown headings.
COMPLETION_RE = re.compile(
    r"\b(?:fix applied|work completed|work complete|changes made|pr filed|implemented)\b"
    r"|^[ \t]*#{2,6}[ \t]*(?:root cause found|fix|summary|work complete)\b",
    re.I | re.M,
)


def completion_comment(issue: Issue) -> Comment | None:
    """The assignee's latest completion comment: an ``evidence`` comment, or a comment saying the work is finished.

    Cancelling an issue that has one throws finished work away, so it needs a reason.
    """
    if issue.assignee_id is None:
        return None
    comments = Comment.objects.filter(issue=issue, author_agent_id=issue.assignee_id).exclude(kind=CommentKind.SYSTEM)
    for comment in comments.order_by("-created_at", "-id"):
        if comment.kind == CommentKind.EVIDENCE or COMPLETION_RE.search(comment.body):
            return comment
    return None

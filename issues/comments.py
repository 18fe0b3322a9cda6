"""Writes for comments on issues: the one place a comment is added (``@mentions`` and stage markers follow it)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from issues.models import Comment, CommentKind, Issue
from issues.permissions import edit_checked
from issues.stages import stage_markers_apply
from issues.validation import clean_text
from orgs.actors import Actor
from orgs.errors import InvalidInput
from orgs.events import EventType, event_publish
from orgs.inserts import insert, update_by_pk
from orgs.services import activity_record


@transaction.atomic
def do_comment_create(*, actor: Actor, issue: Issue, body: str, kind: str = CommentKind.COMMENT) -> Comment:
    """Add a comment without asking whether ``actor`` may edit ``issue``.

    Only for callers that already decided (a transition or an edit that carries the comment,
    a release whose former holder may no longer edit the issue it just gave back).
    ``system`` comments come only from the system actor.
    """
    body = (body or "").strip()
    if not body:
        raise InvalidInput("A comment needs a body.", field="body")
    clean_text(body, "body")
    if kind not in CommentKind.values:
        raise InvalidInput(f"Unknown comment kind {kind!r}; use comment or evidence.", field="kind")
    if kind == CommentKind.SYSTEM and actor.kind != "system":
        raise InvalidInput("Only Mesa itself writes system comments; use comment or evidence.", field="kind")
    comment = insert(Comment(issue=issue, body=body, kind=kind, **actor.author_fields("author")))
    update_by_pk(Issue, issue.pk, updated_at=timezone.now())
    activity_record(
        org=issue.org, actor=actor, verb="commented", obj=issue, details={"comment_id": comment.pk, "kind": kind}
    )
    event_publish(
        org=issue.org,
        type=EventType.COMMENT_CREATED,
        data={
            "id": comment.pk,
            "issue_key": issue.key,
            "issue_id": issue.pk,
            "kind": kind,
            "author": str(actor),
            "actor_kind": actor.kind,
            "actor_agent_id": actor.agent.pk if actor.agent else None,
            "body": body[:500],
        },
    )
    if kind != CommentKind.SYSTEM:
        answers = stage_markers_apply(actor=actor, issue=issue, body=body)
        if answers:
            do_comment_create(actor=Actor.system(), issue=issue, body="\n".join(answers), kind=CommentKind.SYSTEM)
    return comment


comment_create = edit_checked(
    do_comment_create,
    name="comment_create",
    doc="Add a comment, if ``actor`` may edit ``issue`` (else Forbidden); then as do_comment_create.",
)


def system_comment(*, issue: Issue, body: str) -> Comment:
    # The system actor is board: it may comment on any issue, so the check passes.
    return comment_create(actor=Actor.system(), issue=issue, body=body, kind=CommentKind.SYSTEM)

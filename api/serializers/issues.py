"""Issue shapes. ``IssueOutput`` and ``IssueDetailOutput`` are the one declaration of an
issue's JSON: their fields drive the OpenAPI schema, and the views answer through them
(``IssueDetailOutput(issue).data``). Their ``to_representation`` is a hand-written builder
(``issue_row``, ``issue_detail_out``; ``issue_rows`` for a page of list rows), because the
hot list and detail paths cannot afford DRF's per-field overhead on hundreds of rows.
Tests hold the builders to the declared fields: every key, nested ones too
(tests/api/test_issues.py::test_it_answers_with_the_keys_the_schema_declares) and the
row values (::test_it_renders_rows_like_the_serializer).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from rest_framework import serializers

from api.fields import StrictCharField, StrictInput, StrictIntegerField
from issues.labels import issue_labels_of
from issues.lifecycle import allowed_moves
from issues.linter import acceptance_warnings
from issues.models import Comment, CommentKind, Issue, IssueRelation, IssueType, Priority, Status
from orgs.compiled import compiled
from orgs.isotime import IsoUtc
from runners.models import Run


def iso(value: datetime | None) -> str | None:
    """A datetime as DRF renders it (ISO 8601, ``Z`` for UTC)."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# --- output ---------------------------------------------------------------------------------------------------


class IssueOutput(serializers.Serializer):
    """An issue as it appears in lists (no long texts)."""

    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    priority = serializers.IntegerField(help_text="0 none, 1 low, 2 medium, 3 high, 4 urgent.")
    type = serializers.ChoiceField(choices=IssueType.choices)
    assignee = serializers.CharField(source="assignee.slug", allow_null=True, help_text="Agent slug or null.")
    parent = serializers.CharField(  # type: ignore[assignment]
        source="parent.key", allow_null=True, help_text="Parent issue key or null."
    )
    work_block = serializers.IntegerField(source="work_block_id", allow_null=True)
    labels = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    archived_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the issue was archived, or null. Writes to an archived issue are refused (409, code archived).",
    )

    def get_labels(self, obj: Issue) -> list[str]:
        return sorted(lab.name for lab in obj.labels.all())

    def to_representation(self, instance: Issue) -> dict[str, Any]:
        return issue_row(instance)


_ROW_VALUES = (
    "id",
    "key",
    "title",
    "status",
    "priority",
    "type",
    "work_block_id",
    # Already the API's text (orgs/isotime.py): a long list spent a third of its time on datetimes.
    IsoUtc("created_at"),
    IsoUtc("updated_at"),
    IsoUtc("started_at"),
    IsoUtc("completed_at"),
    IsoUtc("archived_at"),
)


# A list row's columns, in the order issue_rows_of reads them.
ISSUE_ROW_FIELDS = (*_ROW_VALUES, "assignee__slug", "parent__key")


def issue_rows(queryset: QuerySet[Issue], *, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
    """List rows for ``queryset`` (sliced by offset/limit) in two queries: the rows, then their labels."""
    page = queryset[offset : offset + limit] if limit is not None else queryset[offset:]
    return issue_rows_of([tuple(r) for r in page.values_list(*ISSUE_ROW_FIELDS)])


def _labels_of(issue_ids: list[int]) -> dict[int, list[str]]:
    """Label names by issue id."""
    labels: dict[int, list[str]] = {}
    for issue_id, _label_id, name in issue_labels_of(issue_ids):
        labels.setdefault(issue_id, []).append(name)
    return labels


def issue_rows_of(raw: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """List rows from tuples of ISSUE_ROW_FIELDS (datetimes already as text), with their labels (one more query)."""
    labels = _labels_of([r[0] for r in raw])
    return [
        {
            "id": r[0],
            "key": r[1],
            "title": r[2],
            "status": r[3],
            "priority": r[4],
            "type": r[5],
            "assignee": r[12],
            "parent": r[13],
            "work_block": r[6],
            "labels": sorted(labels.get(r[0], [])),
            "created_at": r[7],
            "updated_at": r[8],
            "started_at": r[9],
            "completed_at": r[10],
            "archived_at": r[11],
        }
        for r in raw
    ]


def issue_row(issue: Issue, labels: list[str] | None = None) -> dict[str, Any]:
    """One list row from a loaded instance (assignee / parent should be select_related)."""
    if labels is None:
        labels = [lab.name for lab in issue.labels.all()]
    return {
        "id": issue.pk,
        "key": issue.key,
        "title": issue.title,
        "status": issue.status,
        "priority": issue.priority,
        "type": issue.type,
        "assignee": issue.assignee.slug if issue.assignee_id and issue.assignee else None,
        "parent": issue.parent.key if issue.parent_id and issue.parent else None,
        "work_block": issue.work_block_id,
        "labels": sorted(labels),
        "created_at": iso(issue.created_at),
        "updated_at": iso(issue.updated_at),
        "started_at": iso(issue.started_at),
        "completed_at": iso(issue.completed_at),
        "archived_at": iso(issue.archived_at),
    }


class CommentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CommentKind.choices)
    body = serializers.CharField()
    author = serializers.CharField(help_text="Agent slug, user name, or a label such as 'board key mesa_board_…'.")
    author_kind = serializers.ChoiceField(choices=["agent", "human", "system"])
    created_at = serializers.DateTimeField()


def comment_out(comment: Comment, author_slug: str | None = None) -> dict[str, Any]:
    if comment.author_agent_id:
        author = author_slug or (comment.author_agent.slug if comment.author_agent else comment.author_label)
        kind = "agent"
    else:
        author = comment.author_label or "board"
        kind = "system" if comment.kind == CommentKind.SYSTEM else "human"
    return {
        "id": comment.pk,
        "kind": comment.kind,
        "body": comment.body,
        "author": author,
        "author_kind": kind,
        "created_at": iso(comment.created_at),
    }


class ChildOutput(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    assignee = serializers.CharField(allow_null=True)


class RelationOutput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["blocks", "blocked_by", "relates_to", "duplicates", "duplicated_by"],
        help_text="Read from this issue's side: 'blocked_by X' means X blocks this issue.",
    )
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)


class RunsSummaryOutput(serializers.Serializer):
    count = serializers.IntegerField()
    last_status = serializers.CharField(allow_null=True)
    tokens = serializers.IntegerField(help_text="Input + output + cache tokens of all runs.")
    cost_usd = serializers.FloatField()


class IssueDetailOutput(IssueOutput):
    """An issue with everything an agent needs to work on it."""

    description = serializers.CharField()
    acceptance_criteria = serializers.CharField()
    created_by = serializers.CharField()
    allowed_transitions = serializers.ListField(
        child=serializers.CharField(), help_text="Statuses this issue may move to next."
    )
    comments = CommentOutput(many=True)
    children = ChildOutput(many=True)
    relations = RelationOutput(many=True)
    runs = RunsSummaryOutput()

    def to_representation(self, instance: Issue) -> dict[str, Any]:
        return issue_detail_out(instance)


class WarningOutput(serializers.Serializer):
    code = serializers.CharField(help_text="no_acceptance_criteria: a feature or bug without acceptance criteria.")
    field = serializers.CharField()
    message = serializers.CharField()


class IssueCreatedOutput(IssueDetailOutput):
    """The created issue plus the linter's warnings (the issue is created either way).

    A feature or bug has acceptance criteria when its ``acceptance_criteria`` has text, or its description has
    an "Acceptance criteria" (or "AC") heading followed by text, or a ``- [ ]`` checklist item.
    """

    warnings = WarningOutput(many=True)

    def to_representation(self, instance: Issue) -> dict[str, Any]:
        warnings = acceptance_warnings(
            type=instance.type, description=instance.description, acceptance_criteria=instance.acceptance_criteria
        )
        return {**issue_detail_out(instance), "warnings": [asdict(w) for w in warnings]}


_INVERSE = {"blocks": "blocked_by", "duplicates": "duplicated_by", "relates_to": "relates_to"}


def _labels(issue_id: int) -> QuerySet[Any, Any]:
    return Issue.labels.through.objects.filter(issue_id=issue_id).order_by().values_list("label__name")


def _comments(issue_id: int) -> QuerySet[Any, Any]:
    return (
        Comment.objects.filter(issue_id=issue_id)
        .order_by("created_at", "id")
        .values_list("id", "kind", "body", "author_agent__slug", "author_label", "created_at")
    )


def _children(issue_id: int) -> QuerySet[Any, Any]:
    return (
        Issue.objects.filter(parent_id=issue_id)
        .order_by("number")
        .values_list("key", "title", "status", "assignee__slug")
    )


def _relations(issue_id: int) -> QuerySet[Any, Any]:
    return (
        IssueRelation.objects.filter(Q(source_id=issue_id) | Q(target_id=issue_id))
        .order_by("id")
        .values_list(
            "source_id",
            "kind",
            "source__key",
            "source__title",
            "source__status",
            "target__key",
            "target__title",
            "target__status",
        )
    )


def _run_totals(issue_id: int) -> QuerySet[Any, Any]:
    last_run = Run.objects.filter(issue_id=OuterRef("issue_id")).order_by("-id").values("status")[:1]
    return (
        Run.objects.filter(issue_id=issue_id)
        .order_by()
        .values("issue_id")
        .annotate(
            n=Count("id"),
            t_in=Sum("tokens_in"),
            t_out=Sum("tokens_out"),
            t_cr=Sum("tokens_cache_read"),
            t_cw=Sum("tokens_cache_write"),
            cost=Sum("cost_usd"),
            last_status=Subquery(last_run),
        )
        .values_list("n", "t_in", "t_out", "t_cr", "t_cw", "cost", "last_status")
    )


# The most requested answer of the API: its queries are compiled once (orgs/compiled.py).
LABELS, COMMENTS, CHILDREN, RELATIONS, RUN_TOTALS = map(
    compiled, (_labels, _comments, _children, _relations, _run_totals)
)


def issue_detail_out(issue: Issue) -> dict[str, Any]:
    """The full issue (assignee / parent select_related) in six queries, whatever its size.

    Every collection is read as rows (no model instances), through compiled queries: this is the
    most requested endpoint of the API.
    """
    labels = [name for (name,) in LABELS(issue.pk)]
    out = issue_row(issue, labels)
    comments = []
    for pk, kind, body, agent_slug, label, created in COMMENTS(issue.pk):
        if agent_slug:
            author, author_kind = agent_slug, "agent"
        else:
            author, author_kind = label or "board", "system" if kind == CommentKind.SYSTEM else "human"
        comments.append(
            {
                "id": pk,
                "kind": kind,
                "body": body,
                "author": author,
                "author_kind": author_kind,
                "created_at": iso(created),
            }
        )
    children = [
        {"key": key, "title": title, "status": status, "assignee": slug}
        for key, title, status, slug in CHILDREN(issue.pk)
    ]
    relations: list[dict[str, Any]] = []
    for source_id, kind, s_key, s_title, s_status, t_key, t_title, t_status in RELATIONS(issue.pk):
        if source_id == issue.pk:
            relations.append({"kind": kind, "key": t_key, "title": t_title, "status": t_status})
        else:
            relations.append({"kind": _INVERSE.get(kind, kind), "key": s_key, "title": s_title, "status": s_status})
    totals = [
        dict(zip(("n", "t_in", "t_out", "t_cr", "t_cw", "cost", "last_status"), row, strict=True))
        for row in RUN_TOTALS(issue.pk)
    ]
    found = list(totals)  # one row, or none without runs
    agg: dict[str, Any] = dict(found[0]) if found else {"n": 0, "cost": None, "last_status": None}
    tokens = sum(int(agg.get(k) or 0) for k in ("t_in", "t_out", "t_cr", "t_cw"))
    out.update(
        description=issue.description,
        acceptance_criteria=issue.acceptance_criteria,
        created_by=issue.created_by_label or "board",
        allowed_transitions=list(allowed_moves(issue.status)),
        comments=comments,
        children=children,
        relations=relations,
        runs={
            "count": agg["n"],
            "last_status": agg["last_status"],
            "tokens": tokens,
            "cost_usd": float(agg["cost"] or Decimal(0)),
        },
    )
    return out


class SimilarOutput(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    assignee = serializers.CharField(allow_null=True)
    score = serializers.FloatField(help_text="0..1; 1 means the same words in the same order.")


# --- input ----------------------------------------------------------------------------------------------------


class IssueCreateInput(StrictInput):
    title = StrictCharField(max_length=300)
    description = StrictCharField(required=False, allow_blank=True, default="")
    acceptance_criteria = StrictCharField(required=False, allow_blank=True, default="")
    priority = StrictIntegerField(required=False, min_value=0, max_value=4, default=Priority.NONE)
    type = serializers.ChoiceField(choices=IssueType.choices, required=False, default=IssueType.TASK)
    assignee = StrictCharField(
        required=False, allow_null=True, allow_blank=True, help_text="Agent slug; omitted or null = unassigned."
    )
    parent = StrictCharField(  # type: ignore[assignment]
        required=False, allow_null=True, allow_blank=True, help_text="Parent issue key."
    )
    labels = serializers.ListField(child=StrictCharField(), required=False, default=list)
    work_block = StrictIntegerField(required=False, allow_null=True)


class IssueUpdateInput(StrictInput):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    title = StrictCharField(required=False, max_length=300)
    description = StrictCharField(required=False, allow_blank=True)
    acceptance_criteria = StrictCharField(required=False, allow_blank=True)
    priority = StrictIntegerField(required=False, min_value=0, max_value=4)
    type = serializers.ChoiceField(choices=IssueType.choices, required=False)
    assignee = StrictCharField(
        required=False, allow_null=True, allow_blank=True, help_text='Agent slug; "" or null unassigns.'
    )
    parent = StrictCharField(  # type: ignore[assignment]
        required=False, allow_null=True, allow_blank=True, help_text='Issue key; "" or null.'
    )
    labels = serializers.ListField(child=StrictCharField(), required=False, help_text="Replaces all labels.")
    work_block = StrictIntegerField(required=False, allow_null=True)
    comment = StrictCharField(
        required=False,
        allow_blank=True,
        help_text=(
            "Posted as your comment in the same transaction. Moving to `cancelled` an issue whose assignee already "
            "posted a completion comment (an evidence comment, or one saying the work is done) needs it as the "
            "reason: without it, 409 `cancellation_reason_required` with `completion_comment_excerpt`."
        ),
    )


class CommentCreateInput(StrictInput):
    body = StrictCharField(max_length=100_000)
    kind = serializers.ChoiceField(
        choices=[CommentKind.COMMENT, CommentKind.EVIDENCE],
        required=False,
        default=CommentKind.COMMENT,
        help_text="evidence = proof the work is done (test output, links).",
    )


class CheckoutInput(StrictInput):
    """Optional: checkout needs no body. The original Mesa's ``{agentId, expectedStatuses}`` still works."""

    agent_id = serializers.JSONField(required=False, help_text="Ignored: the key says who you are.")
    expected_statuses = serializers.ListField(
        child=StrictCharField(),
        required=False,
        help_text="Claim only if the issue is in one of these statuses now (else 409 unexpected_status).",
    )


class ReleaseInput(StrictInput):
    comment = StrictCharField(required=False, allow_blank=True, default="", help_text="Why you give it back.")


class SimilarityInput(StrictInput):
    title = StrictCharField(max_length=300)
    threshold = serializers.FloatField(required=False, min_value=0, max_value=1, default=0.5)
    limit = StrictIntegerField(required=False, min_value=1, max_value=50, default=10)


RELATION_KINDS = ("blocks", "blocked_by", "relates_to", "duplicates")


class RelationInput(StrictInput):
    kind = serializers.ChoiceField(choices=RELATION_KINDS, help_text="blocked_by is stored as the inverse blocks.")
    target = StrictCharField(max_length=40, help_text="The other issue's key.")


class RelationCreatedOutput(serializers.Serializer):
    issue = serializers.CharField(help_text="The issue the relation goes from (for blocked_by, the blocker).")
    kind = serializers.CharField()
    target = serializers.CharField()

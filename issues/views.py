"""HTML views for issues: board / list, the issue page, create, inline edits, comments, moving cards.

Every write goes through ``issues.services``; a refused change is reported
inline (htmx) or as a message (plain POST), and nothing is half-done.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.selectors import agent_ref
from approvals.models import Approval
from blocks.models import WorkBlock, WorkBlockStatus
from issues.board import GROUPINGS, ORDERINGS, choice_menu, filter_menus, filters_query, grouped, parse_filters
from issues.comments import comment_create
from issues.lifecycle import allowed_moves
from issues.linter import LintWarning, acceptance_warnings
from issues.models import Comment, Issue, IssueRelation, IssueType, Label, Priority, Status
from issues.ordering import issues_reorder
from issues.relations import relation_add, relation_remove
from issues.selectors import issue_get_for
from issues.services import issue_create, issue_edit, issue_transition
from issues.stages import stage_progress
from orgs.errors import InvalidInput, MesaError
from orgs.models import Org
from orgs.numbers import whole_number
from runners.backlog import backlog_append
from runners.branches import branch_summary, issue_branch
from runners.models import Run
from runners.shipping import issue_branch_discard, issue_ship
from web.access import HtmxHttpRequest, back_url, fail, human_actor, offered_agents, org_agents, require_org

VIEW_COOKIE = "mesa_board_view"
MAX_LIMIT = 500
ISSUE_TRANSCRIPT_TAIL = 60
PEEK_COMMENTS = 5


def _limit(request: HtmxHttpRequest) -> int:
    default = int(getattr(settings, "MESA_BOARD_COLUMN_LIMIT", 50))
    raw = request.GET.get("limit", "")
    value = whole_number(raw, minimum=1)
    return min(MAX_LIMIT, value) if value is not None else default


def board_context(request: HtmxHttpRequest, org: Org) -> dict[str, Any]:
    view = request.GET.get("view") or request.COOKIES.get(VIEW_COOKIE) or "board"
    view = view if view in {"board", "list"} else "board"
    grouping = request.GET.get("group", "status")
    grouping = grouping if grouping in GROUPINGS else "status"
    if view == "board":
        grouping = "status"
    order = request.GET.get("order", "manual")
    order = order if order in ORDERINGS else "manual"
    filters = parse_filters(request.GET)
    agents = org_agents(request)
    labels = list(Label.objects.filter(org=org, archived_at__isnull=True).only("id", "name", "color"))
    groups = grouped(org, filters, grouping=grouping, limit=_limit(request), agents=agents, labels=labels, order=order)
    blocks = list(
        WorkBlock.objects.filter(org=org)
        .exclude(status__in=[WorkBlockStatus.SHIPPED, WorkBlockStatus.CANCELLED])
        .only("id", "title", "status")
    )
    # What the toolbar links keep: the filters, the grouping and the ordering (not the view: each tab sets it).
    keep = [("group", grouping)] if view == "list" and grouping != "status" else []
    keep += [("order", order)] if order != "manual" else []
    filter_query = "&".join(q for q in (filters_query(filters), urlencode(keep)) if q)
    return {
        "view": view,
        "grouping": grouping,
        "groupings": GROUPINGS,
        "order": order,
        "groups": groups,
        "filters": filters,
        "filter_query": filter_query,
        "column_query": "&".join(q for q in (filters_query(filters, without=("status",)), urlencode(keep)) if q),
        "filter_menus": filter_menus(filters, agents=agents, labels=labels, blocks=blocks),
        "group_menu": choice_menu("group", "Group", GROUPINGS, grouping),
        "order_menu": choice_menu("order", "Order", ORDERINGS, order),
        "agents": agents,
        "labels": labels,
        "blocks": blocks,
        "picker_data": {
            "moves": {s: list(allowed_moves(s)) for s in Status.values},
            "statuses": [[v, str(lab)] for v, lab in Status.choices],
            "agents": [[a.slug, a.name] for a in agents],
            "labels": [[lab.name, lab.color] for lab in labels],
            "priorities": [[str(v), str(lab)] for v, lab in sorted(Priority.choices, key=lambda c: -c[0])],
            "blocks": [[str(b.pk), b.title] for b in blocks],
        },
        "total": sum(g.count for g in groups),
    }


@require_GET
def board(request: HtmxHttpRequest) -> HttpResponse:
    """The issues of the org as a kanban (columns by status) or a grouped list; htmx gets just the columns."""
    org = require_org(request)
    ctx = board_context(request, org)
    # A history restore (back / forward past htmx's cache) needs the whole page, toolbar included.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "issues/partials/board_columns.html" if partial else "issues/board.html"
    response = render(request, template, ctx)
    if request.GET.get("view") in {"board", "list"}:
        response.set_cookie(VIEW_COOKIE, request.GET["view"], max_age=365 * 86400, samesite="Lax")
    return response


@require_POST
def backlog(request: HtmxHttpRequest) -> HttpResponse:
    """The backlog box: free text for the CEO, who turns it into issues on its next run."""

    org = require_org(request)
    board_url = reverse("issues:board")
    try:
        ceo = backlog_append(actor=human_actor(request), org=org, text=request.POST.get("text", ""))
    except MesaError as exc:
        return fail(request, exc, back=board_url)
    messages.success(request, f"Added to the backlog; {ceo.name} will turn it into issues.")
    return HttpResponseRedirect(board_url)


@require_POST
def move(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """Move a card to another status through the lifecycle service."""
    org = require_org(request)
    actor = human_actor(request)
    board_url = reverse("issues:board") + (f"?{request.GET.urlencode()}" if request.GET else "")
    try:
        issue = issue_get_for(actor=actor, org=org, key=key)
        issue_transition(actor=actor, issue=issue, to=request.POST.get("status", ""))
    except MesaError as exc:
        return fail(request, exc, back=back_url(request, board_url))
    if request.htmx:
        return render(request, "issues/partials/board_columns.html", board_context(request, org))
    return HttpResponseRedirect(back_url(request, board_url))


@require_POST
def reorder(request: HtmxHttpRequest) -> HttpResponse:
    """Drop a card within its column: ``status``, ``keys`` (the column top first), ``moved`` (the card)."""
    org = require_org(request)
    board_url = reverse("issues:board") + (f"?{request.GET.urlencode()}" if request.GET else "")
    try:
        issues_reorder(
            actor=human_actor(request),
            org=org,
            status=request.POST.get("status", ""),
            keys=[k for k in request.POST.get("keys", "").split(",") if k],
            moved=request.POST.get("moved", ""),
        )
    except MesaError as exc:
        return fail(request, exc, back=back_url(request, board_url))
    if request.htmx:
        return render(request, "issues/partials/board_columns.html", board_context(request, org))
    return HttpResponseRedirect(back_url(request, board_url))


def _issue_form_values(request: HtmxHttpRequest) -> dict[str, str]:
    fields = ("title", "description", "acceptance_criteria", "priority", "type", "assignee", "parent")
    return {k: request.POST.get(k, "") for k in fields}


@require_http_methods(["GET", "POST"])
def create(request: HtmxHttpRequest) -> HttpResponse:
    """The full create form (GET); POST creates the issue and opens it, or shows the form again with the error."""
    org = require_org(request)
    values = _issue_form_values(request) if request.method == "POST" else {"parent": request.GET.get("parent", "")}
    error: MesaError | None = None
    warnings: list[LintWarning] = []
    if request.method == "POST":
        actor = human_actor(request)
        # The linter warns once, inline; "Create anyway" (ack_warnings) creates the issue as it is.
        warnings = acceptance_warnings(
            type=values["type"] or IssueType.TASK,
            description=values["description"],
            acceptance_criteria=values["acceptance_criteria"],
        )
        if warnings and request.POST.get("ack_warnings"):
            warnings = []
    if request.method == "POST" and not warnings:
        try:
            assignee = agent_ref(org, values["assignee"], "assignee")
            parent = issue_get_for(actor=actor, org=org, key=values["parent"]) if values["parent"] else None
            priority = whole_number(values["priority"]) or 0
            issue = issue_create(
                actor=actor,
                org=org,
                title=values["title"],
                description=values["description"],
                acceptance_criteria=values["acceptance_criteria"],
                priority=priority,
                type=values["type"] or IssueType.TASK,
                assignee=assignee,
                parent=parent,
            )
        except MesaError as exc:
            error = exc
        else:
            url = reverse("issues:detail", args=[issue.key])
            if request.htmx:
                # The quick-create modal and the sub-issue box keep you where you are: static/js/peek.js
                # toasts a link to the new issue, and the board / sub-issue list show it live.
                created = {"key": issue.key, "title": issue.title, "url": url}
                return HttpResponse(status=204, headers={"HX-Trigger": json.dumps({"mesa-created": created})})
            return HttpResponseRedirect(url)
    if request.htmx and (error is not None or warnings):
        if error is not None:
            return fail(request, error, back=reverse("issues:create"))
        # The linter's warnings, inline in the box that sent it, with "Create anyway".
        return render(request, "issues/partials/create_warnings.html", {"warnings": warnings})
    ctx = {
        "values": values,
        "error": error,
        "warnings": warnings,
        "error_field": error.extra.get("field") if error else None,
        "existing_key": error.extra.get("existing_key") if error else None,
        "agents": offered_agents(request),
        "priorities": Priority.choices,
        "types": IssueType.choices,
    }
    return render(request, "issues/create.html", ctx, status=error.status if error else 200)


def _issue_context(request: HtmxHttpRequest, issue: Issue) -> dict[str, Any]:
    org = issue.org
    return {
        "issue": issue,
        "issue_labels": list(issue.labels.all()),
        "labels": list(Label.objects.filter(org=org, archived_at__isnull=True).only("id", "name", "color")),
        # Archived agents are not offered, but an issue's current assignee stays selectable.
        "agents": [a for a in org_agents(request) if a.status != "terminated" or a.pk == issue.assignee_id],
        "blocks": list(
            WorkBlock.objects.filter(org=org)
            .exclude(status__in=[WorkBlockStatus.SHIPPED, WorkBlockStatus.CANCELLED])
            .only("id", "title", "status")
        ),
        "moves": allowed_moves(issue.status),
        "status_labels": dict(Status.choices),
        "priorities": Priority.choices,
        "types": IssueType.choices,
    }


def _runs_context(issue: Issue) -> dict[str, Any]:
    runs = list(
        Run.objects.filter(issue=issue)
        .select_related("agent", "evaluation")  # the judge's scores, when the org evaluates runs
        .defer("prompt", "stdout", "diff")
        .order_by("-id")[:20]
    )
    latest = runs[0] if runs else None
    # The issue page shows the tail of the latest run; the run page has the whole transcript.
    events = list(latest.events.order_by("-seq")[:ISSUE_TRANSCRIPT_TAIL])[::-1] if latest else []
    latest_diff = Run.objects.filter(issue=issue).exclude(diff="").values_list("id", "diff").order_by("-id").first()
    return {"runs": runs, "latest": latest, "events": events, "latest_diff": latest_diff}


def _comments(issue: Issue) -> list[Comment]:
    return list(issue.comments.select_related("author_agent", "author_user").order_by("created_at", "id"))


@require_GET
def detail(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """The issue page. htmx requests targeting one section get only that section."""
    org = require_org(request)
    issue = _get_issue(request, org, key)
    target = request.htmx.target if request.htmx else None
    if target == "issue-props":
        return render(request, "issues/partials/props.html", _issue_context(request, issue))
    if target == "issue-comments":
        return render(request, "issues/partials/comments.html", {"issue": issue, "comments": _comments(issue)})
    if target == "issue-runs":
        return render(request, "issues/partials/runs.html", {"issue": issue, **_runs_context(issue)})
    if target == "issue-main":
        return render(request, "issues/partials/main.html", {"issue": issue, "progress": stage_progress(issue)})
    if target == "issue-branch":
        return render(request, "issues/partials/branch.html", {"issue": issue, **_branch_context(issue)})
    if target == "peek-body":
        return render(
            request, "issues/partials/peek.html", {"issue": issue, "comments": _comments(issue)[-PEEK_COMMENTS:]}
        )
    if target == "issue-children":
        return render(request, "issues/partials/children.html", {"issue": issue, "children": _children(issue)})
    ctx = _issue_context(request, issue)
    ctx.update(_runs_context(issue))
    ctx.update(_branch_context(issue))
    ctx["comments"] = _comments(issue)
    ctx["progress"] = stage_progress(issue)
    ctx["children"] = _children(issue)
    # The @-mention autocomplete's candidates (static/js/editor.js); what a mention does comes from /mentions.
    ctx["mention_agents"] = [{"slug": a.slug, "name": a.name, "role": a.archetype} for a in ctx["agents"]]
    ctx["relations_out"] = list(IssueRelation.objects.filter(source=issue).select_related("target"))
    ctx["relations_in"] = list(IssueRelation.objects.filter(target=issue).select_related("source"))
    ctx["approvals"] = list(Approval.objects.filter(issue=issue).order_by("-created_at")[:20])
    return render(request, "issues/issue.html", ctx)


def _children(issue: Issue) -> list[Issue]:
    return list(issue.children.select_related("assignee").order_by("number"))


def _get_issue(request: HtmxHttpRequest, org: Org, key: str) -> Issue:
    # A NotFound becomes the 404 page in web.access.AccessMiddleware.
    return issue_get_for(actor=human_actor(request), org=org, key=key)


@require_POST
def edit(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """Change one or more fields in place: status through the lifecycle, the rest through issue_update."""
    org = require_org(request)
    issue = _get_issue(request, org, key)
    actor = human_actor(request)
    post = request.POST
    error: MesaError | None = None
    try:
        changes: dict[str, Any] = {}
        if "title" in post:
            changes["title"] = post["title"]
        if "description" in post:
            changes["description"] = post["description"]
        if "priority" in post:
            # issue_update validates the value and names the field when it is wrong.
            changes["priority"] = post["priority"]
        if "type" in post:
            changes["type"] = post["type"]
        if "assignee" in post:
            slug = post["assignee"]
            changes["assignee"] = agent_ref(org, slug, "assignee")
        if "work_block" in post:
            raw = post["work_block"]
            block_pk = whole_number(raw, minimum=1)
            block = WorkBlock.objects.filter(org=org, pk=block_pk).first() if block_pk else None
            if raw and block is None:
                raise InvalidInput("There is no such work block.", field="work_block")
            changes["work_block"] = block
        if "labels_present" in post:
            changes["labels"] = post.getlist("labels")
        issue = issue_edit(
            actor=actor,
            issue=issue,
            status=post.get("status", ""),
            comment=post.get("comment", ""),
            unchanged_since=_seen_version(post.get("version", "")),
            **changes,
        )
    except MesaError as exc:
        error = exc
        issue = _get_issue(request, org, key)
    url = reverse("issues:detail", args=[issue.key])
    if not request.htmx:
        if error is not None:
            return fail(request, error, back=url)
        return HttpResponseRedirect(url)
    target = request.htmx.target or "issue-props"
    if target == "issue-main":
        ctx_main: dict[str, Any] = {"issue": issue, "error": error, "progress": stage_progress(issue)}
        if error is not None:
            # A refused save keeps the editor open with the text that was sent (and the version it saw).
            ctx_main["draft"] = {k: post.get(k, "") for k in ("title", "description", "version")}
            ctx_main["editing"] = "description" if "description" in post else "title"
        return render(request, "issues/partials/main.html", ctx_main, status=error.status if error else 200)
    ctx = _issue_context(request, issue)
    ctx["error"] = error
    return render(request, "issues/partials/props.html", ctx, status=error.status if error else 200)


def _seen_version(raw: str) -> datetime | None:
    """The ``updated_at`` an editor was opened on (``version``, ISO 8601), or None when not sent."""
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput("The editor's version stamp is not a date; reload the page.", field="version") from exc


@require_POST
def comment(request: HtmxHttpRequest, key: str) -> HttpResponse:
    org = require_org(request)
    issue = _get_issue(request, org, key)
    error: MesaError | None = None
    try:
        comment_create(
            actor=human_actor(request),
            issue=issue,
            body=request.POST.get("body", ""),
            kind=request.POST.get("kind") or "comment",
        )
    except MesaError as exc:
        error = exc
    url = reverse("issues:detail", args=[issue.key])
    if not request.htmx:
        return fail(request, error, back=url) if error else HttpResponseRedirect(url + "#comments")
    ctx = {
        "issue": issue,
        "comments": _comments(issue),
        "error": error,
        "body": request.POST.get("body", "") if error else "",
    }
    return render(request, "issues/partials/comments.html", ctx, status=error.status if error else 200)


@require_POST
def relate(request: HtmxHttpRequest, key: str) -> HttpResponse:
    org = require_org(request)
    actor = human_actor(request)
    issue = _get_issue(request, org, key)
    url = reverse("issues:detail", args=[issue.key])
    try:
        target = issue_get_for(actor=actor, org=org, key=request.POST.get("target", "").strip())
        relation_add(actor=actor, source=issue, target=target, kind=request.POST.get("kind", "relates_to"))
    except MesaError as exc:
        return fail(request, exc, back=url)
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Refresh": "true"})
    return HttpResponseRedirect(url)


@require_POST
def unrelate(request: HtmxHttpRequest, key: str) -> HttpResponse:
    org = require_org(request)
    actor = human_actor(request)
    issue = _get_issue(request, org, key)
    url = reverse("issues:detail", args=[issue.key])
    try:
        target = issue_get_for(actor=actor, org=org, key=request.POST.get("target", "").strip())
        relation_remove(actor=actor, source=issue, target=target, kind=request.POST.get("kind", ""))
    except MesaError as exc:
        return fail(request, exc, back=url)
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Refresh": "true"})
    return HttpResponseRedirect(url)


BRANCH_ACTIONS = (("merge", "Merge"), ("pr", "Open PR"), ("discard", "Discard branch"))
PATCH_MAX = 200_000


def _branch_context(issue: Issue) -> dict[str, Any]:
    record = issue_branch(issue)
    if record is None:
        return {"branch": None}
    summary, patch = branch_summary(record, patch=True)
    if len(patch) > PATCH_MAX:
        patch = patch[:PATCH_MAX] + "\n[... diff truncated ...]\n"
    return {"branch": record, "summary": summary, "patch": patch, "branch_actions": BRANCH_ACTIONS}


@require_POST
def branch(request: HtmxHttpRequest, key: str, action: str) -> HttpResponse:
    """A human ships the issue's branch now (merge / open a pull request) or discards it."""
    org = require_org(request)
    actor = human_actor(request)
    issue = _get_issue(request, org, key)
    url = reverse("issues:detail", args=[issue.key])
    try:
        if issue_branch(issue) is None:
            raise InvalidInput(f"{issue.key} has no branch yet.", field="action")
        if action == "merge":
            issue_ship(actor=actor, issue=issue, mode="merge")
        elif action == "pr":
            issue_ship(actor=actor, issue=issue, mode="pull_request")
        elif action == "discard":
            issue_branch_discard(actor=actor, issue=issue)
        else:
            raise InvalidInput(f"Unknown branch action {action!r}.", field="action")
    except MesaError as exc:
        return fail(request, exc, back=url)
    if request.htmx:
        return render(request, "issues/partials/branch.html", {"issue": issue, **_branch_context(issue)})
    return HttpResponseRedirect(url)


__all__ = ["board", "branch", "comment", "create", "detail", "edit", "move", "relate"]

"""HTML views of the board's toolbar: bulk actions on selected issues, and saved views.

The board page itself is ``issues.views.board``; these answer its bulk bar and its
"Save view" / delete buttons, through ``issues.bulk`` and ``issues.saved_views``.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from agents.selectors import agent_ref
from blocks.models import WorkBlock
from issues.bulk import (
    BulkResult,
    issues_bulk_assign,
    issues_bulk_label,
    issues_bulk_set_priority,
    issues_bulk_set_work_block,
    issues_bulk_transition,
)
from issues.saved_views import saved_view_delete, saved_view_save
from issues.selectors import saved_view_get_for
from issues.views import board_context
from orgs.errors import InvalidInput, MesaError
from orgs.models import Org
from orgs.numbers import whole_number
from web.access import HtmxHttpRequest, back_url, fail, human_actor, require_org

BULK_ACTIONS = {
    "status": "Status",
    "assignee": "Assignee",
    "priority": "Priority",
    "work_block": "Work block",
    "label_add": "Label added",
    "label_remove": "Label removed",
}


def _work_block(org: Org, raw: str) -> WorkBlock | None:
    if not raw:
        return None
    block = WorkBlock.objects.filter(org=org, pk=whole_number(raw, minimum=1) or 0).first()
    if block is None:
        raise InvalidInput("There is no such work block.", field="value")
    return block


def _run_bulk(request: HtmxHttpRequest, org: Org, action: str, keys: list[str], value: str) -> BulkResult:
    actor = human_actor(request)
    if action == "status":
        return issues_bulk_transition(actor=actor, org=org, keys=keys, to=value)
    if action == "assignee":
        return issues_bulk_assign(actor=actor, org=org, keys=keys, assignee=agent_ref(org, value, "value"))
    if action == "priority":
        priority = whole_number(value, maximum=4)
        if priority is None:
            raise InvalidInput("Choose a priority from 0 (none) to 4 (urgent).", field="value")
        return issues_bulk_set_priority(actor=actor, org=org, keys=keys, priority=priority)
    if action == "work_block":
        return issues_bulk_set_work_block(actor=actor, org=org, keys=keys, work_block=_work_block(org, value))
    if action in {"label_add", "label_remove"}:
        return issues_bulk_label(actor=actor, org=org, keys=keys, label=value, add=action == "label_add")
    raise InvalidInput(f"Unknown bulk action {action!r}.", field="action")


@require_POST
def bulk(request: HtmxHttpRequest) -> HttpResponse:
    """Apply one action (``action``, ``value``) to the issues ``keys`` names (comma-separated).

    Each issue goes through the single-issue service; refused ones are listed in a toast and
    the rest are changed. htmx gets the board columns (for the query string the board shows)
    with the toast out of band; a plain POST gets a message and the board.
    """
    org = require_org(request)
    board_url = reverse("issues:board") + (f"?{request.GET.urlencode()}" if request.GET else "")
    action = request.POST.get("action", "")
    try:
        keys = [k for k in request.POST.get("keys", "").split(",") if k.strip()]
        result = _run_bulk(request, org, action, keys, request.POST.get("value", "").strip())
    except MesaError as exc:
        return fail(request, exc, back=back_url(request, board_url))
    text = result.summary(BULK_ACTIONS.get(action, action))
    level = "warning" if result.refused else "success"
    if not request.htmx:
        messages.add_message(request, messages.WARNING if result.refused else messages.SUCCESS, text)
        return HttpResponseRedirect(back_url(request, board_url))
    response = render(request, "issues/partials/board_columns.html", board_context(request, org))
    toast = render_to_string("partials/toast.html", {"message": text, "level": level}, request=request)
    response.write(f'<div id="toasts" hx-swap-oob="beforeend">{toast}</div>')
    return response


@require_POST
def view_save(request: HtmxHttpRequest) -> HttpResponse:
    """Save the board's current query (``query``; ``view`` when the query has none) under ``name``."""
    org = require_org(request)
    query = QueryDict(request.POST.get("query", "").lstrip("?"), mutable=True)
    if "view" not in query and request.POST.get("view"):
        query["view"] = request.POST["view"]
    try:
        saved = saved_view_save(
            actor=human_actor(request), org=org, name=request.POST.get("name", ""), query=query.urlencode()
        )
    except MesaError as exc:
        return fail(request, exc, back=reverse("issues:board"))
    messages.success(request, f"Saved the view “{saved.name}”.")
    return HttpResponseRedirect(reverse("issues:board") + (f"?{saved.query}" if saved.query else ""))


@require_POST
def view_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Delete one of the visitor's own saved views (another person's is a 404)."""
    org = require_org(request)
    actor = human_actor(request)
    saved = saved_view_get_for(actor=actor, org=org, pk=pk)
    try:
        saved_view_delete(actor=actor, view=saved)
    except MesaError as exc:
        return fail(request, exc, back=reverse("issues:board"))
    messages.success(request, f"Deleted the view “{saved.name}”.")
    return HttpResponseRedirect(back_url(request, reverse("issues:board")))

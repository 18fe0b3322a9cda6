"""HTML views for the wiki: list and search, page, create, edit (with base_revision), history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgs.errors import MesaError
from orgs.models import Org
from orgs.numbers import whole_number
from web.access import HtmxHttpRequest, fail, human_actor, require_org
from wiki.models import WikiPage, WikiRevision
from wiki.search import wiki_search
from wiki.selectors import wiki_page_get_for
from wiki.services import wiki_page_create, wiki_page_delete, wiki_page_restore, wiki_page_update


def _search(org: Org, q: str) -> list[dict[str, Any]]:
    """The wiki's ranked search (``wiki.search``), at most 100 hits."""
    return [
        {"slug": h.slug, "title": h.title, "snippet": h.snippet, "updated_at": h.updated_at}
        for h in wiki_search(org=org, q=q)[:100]
    ]


@require_GET
def page_list(request: HtmxHttpRequest) -> HttpResponse:
    org = require_org(request)
    q = request.GET.get("q", "").strip()
    ctx: dict[str, Any] = {"q": q}
    if q:
        ctx["hits"] = _search(org, q)
    else:
        ctx["pages"] = list(
            WikiPage.objects.filter(org=org, deleted_at__isnull=True).only(
                "slug", "title", "updated_at", "updated_by_label"
            )
        )
        ctx["deleted"] = list(
            WikiPage.objects.filter(org=org, deleted_at__isnull=False).only(
                "slug", "title", "deleted_at", "deleted_by_label"
            )
        )
    if request.htmx and request.htmx.target == "wiki-results":
        return render(request, "wiki/partials/results.html", ctx)
    return render(request, "wiki/list.html", ctx)


def _get_page(request: HtmxHttpRequest, org: Org, slug: str) -> WikiPage:
    # A NotFound becomes the 404 page in web.access.AccessMiddleware.
    return wiki_page_get_for(actor=human_actor(request), org=org, slug=slug)


@require_GET
def page(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    org = require_org(request)
    return render(request, "wiki/page.html", {"page": _get_page(request, org, slug)})


@require_http_methods(["GET", "POST"])
def create(request: HtmxHttpRequest) -> HttpResponse:
    org = require_org(request)
    error: MesaError | None = None
    values = {
        "title": request.POST.get("title", request.GET.get("title", "")),
        "content": request.POST.get("content", ""),
    }
    if request.method == "POST":
        try:
            new = wiki_page_create(
                actor=human_actor(request), org=org, title=values["title"], content=values["content"]
            )
        except MesaError as exc:
            error = exc
        else:
            return HttpResponseRedirect(reverse("wiki:page", args=[new.slug]))
    return render(
        request,
        "wiki/edit.html",
        {"values": values, "error": error, "page": None},
        status=error.status if error else 200,
    )


@require_http_methods(["GET", "POST"])
def edit(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Edit a page. The form carries the revision it started from; a concurrent edit is refused, never overwritten."""
    org = require_org(request)
    current = _get_page(request, org, slug)
    error: MesaError | None = None
    values = {"title": current.title, "content": current.content, "base_revision": str(current.revision)}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("title", "content", "base_revision")}
        base = whole_number(values["base_revision"], minimum=1)
        try:
            wiki_page_update(
                actor=human_actor(request),
                page=current,
                title=values["title"],
                content=values["content"],
                base_revision=base,
            )
        except MesaError as exc:
            error = exc
            current.refresh_from_db()
        else:
            return HttpResponseRedirect(reverse("wiki:page", args=[current.slug]))
    return render(
        request,
        "wiki/edit.html",
        {"values": values, "error": error, "page": current},
        status=error.status if error else 200,
    )


@require_GET
def history(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    org = require_org(request)
    current = _get_page(request, org, slug)
    revisions = list(WikiRevision.objects.filter(page=current).order_by("-number")[:100])
    shown = None
    wanted = whole_number(request.GET.get("r"), minimum=1)
    if wanted is not None:
        shown = next((r for r in revisions if r.number == wanted), None)
    return render(request, "wiki/history.html", {"page": current, "revisions": revisions, "shown": shown})


@require_POST
def delete(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Soft delete (board, CEO, author); the page is listed under "Deleted pages" on the wiki list to restore."""
    page = _get_page(request, require_org(request), slug)
    try:
        wiki_page_delete(actor=human_actor(request), page=page)
    except MesaError as exc:
        return fail(request, exc, back=reverse("wiki:page", args=[slug]))
    messages.success(request, f"Deleted {page.title}. Restore it from Deleted pages below.")
    return HttpResponseRedirect(reverse("wiki:list"))


@require_POST
def restore(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    org = require_org(request)
    page = wiki_page_get_for(actor=human_actor(request), org=org, slug=slug, deleted=True)
    try:
        wiki_page_restore(actor=human_actor(request), page=page)
    except MesaError as exc:
        return fail(request, exc, back=reverse("wiki:list"))
    messages.success(request, f"Restored {page.title}.")
    return HttpResponseRedirect(reverse("wiki:page", args=[slug]))

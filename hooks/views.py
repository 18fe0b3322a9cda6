"""The receiver providers post to, and Settings → Hooks (create, rotate, deliveries with redeliver)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent
from hooks.models import Action, LogKind, OutputPolicy, Source
from hooks.routines import routine_run_now
from hooks.selectors import (
    deliveries_for,
    delivery_get_for,
    hook_for_delivery,
    hook_get_for,
    hooks_for,
    log_for,
    routine_get_for,
    routines_for,
    rules_for,
)
from hooks.services import hook_create, hook_rotate_secret, hook_set_enabled, receive, redeliver, rule_create
from orgs.errors import MesaError, NotFound
from web.access import HtmxHttpRequest, human_actor, require_org


def max_body() -> int:
    return int(getattr(settings, "MESA_HOOK_MAX_BODY", 1_000_000))


@csrf_exempt
@require_POST
def receive_view(request: HttpRequest, org: str, source: str, public_id: str) -> HttpResponse:
    """``POST /hooks/<org>/<source>/<id>``: signed by the provider, never by a session (hence no CSRF)."""
    try:
        hook = hook_for_delivery(org_slug=org, source=source, public_id=public_id)
    except NotFound:
        return JsonResponse({"error": "No such hook.", "code": "not_found"}, status=404)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    # Checked before the body is read, so an oversized delivery costs nothing.
    if length > max_body():
        return JsonResponse({"error": "The delivery is too large.", "code": "too_large"}, status=413)
    body = request.read(max_body() + 1)
    if len(body) > max_body():
        return JsonResponse({"error": "The delivery is too large.", "code": "too_large"}, status=413)
    answer = receive(hook=hook, body=body, headers=request.headers)
    return JsonResponse(answer.body, status=answer.status)


def hook_url(request: HttpRequest, org_slug: str, source: str, public_id: str) -> str:
    return request.build_absolute_uri(reverse("hooks:receive", args=[org_slug, source, public_id]))


@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    org = require_org(request)
    hooks = [{"hook": h, "url": hook_url(request, org.slug, h.source, h.public_id)} for h in hooks_for(org)]
    ctx = {
        "hooks": hooks,
        "rules": rules_for(org),
        "deliveries": deliveries_for(org),
        "sources": Source.choices,
        "revealed": request.session.pop("hook_secret", None),
        "routines": routines_for(org),
        "agents": Agent.objects.filter(org=org).order_by("slug"),
        "actions": Action.choices,
        "policies": OutputPolicy.objects.filter(agent__org=org).select_related("agent"),
    }
    return render(request, "hooks/settings.html", ctx)


def _reveal(request: HttpRequest, name: str, url: str, secret: str) -> None:
    # Shown once on the next page, then gone: the session carries it across the redirect only.
    request.session["hook_secret"] = {"name": name, "url": url, "secret": secret}


@require_POST
def hook_new(request: HttpRequest) -> HttpResponse:
    org = require_org(request)
    try:
        hook, secret = hook_create(
            actor=human_actor(request),
            org=org,
            source=request.POST.get("source", ""),
            name=request.POST.get("name", ""),
            signature_header=request.POST.get("signature_header", ""),
            delivery_header=request.POST.get("delivery_header", ""),
            api_url=request.POST.get("api_url", ""),
            token=request.POST.get("token", ""),
        )
    except MesaError as exc:
        messages.error(request, exc.message)
    else:
        _reveal(request, hook.name, hook_url(request, org.slug, hook.source, hook.public_id), secret)
    return HttpResponseRedirect(reverse("hooks:settings"))


@require_POST
def hook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    org = require_org(request)
    hook = hook_get_for(org, pk)
    secret = hook_rotate_secret(actor=human_actor(request), hook=hook)
    _reveal(request, hook.name, hook_url(request, org.slug, hook.source, hook.public_id), secret)
    return HttpResponseRedirect(reverse("hooks:settings"))


@require_POST
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    org = require_org(request)
    delivery = redeliver(actor=human_actor(request), delivery=delivery_get_for(org, pk))
    messages.success(request, f"Delivery {delivery.delivery_id} processed again: {delivery.status}.")
    return HttpResponseRedirect(reverse("hooks:settings"))


LOG_PAGE = 50


@require_GET
def logs_page(request: HtmxHttpRequest) -> HttpResponse:
    """The pipeline log: filters by hook, rule, agent, issue and kind; older pages by ``?before=<id>``; live."""
    org = require_org(request)
    qs = log_for(org)
    params = request.GET
    filters = {k: params.get(k, "").strip() for k in ("hook", "rule", "agent", "issue", "kind", "before")}
    for key in ("hook", "rule"):
        if filters[key].isdigit():
            qs = qs.filter(**{f"{key}_id": int(filters[key])})
    if filters["agent"]:
        qs = qs.filter(agent__slug=filters["agent"].lower())
    if filters["issue"]:
        qs = qs.filter(issue__key=filters["issue"].upper())
    if filters["kind"] in LogKind.values:
        qs = qs.filter(kind=filters["kind"])
    if filters["before"].isdigit():
        qs = qs.filter(pk__lt=int(filters["before"]))
    rows = list(qs[: LOG_PAGE + 1])
    more = len(rows) > LOG_PAGE
    rows = rows[:LOG_PAGE]
    ctx = {
        "entries": rows,
        "older": rows[-1].pk if more and rows else None,
        "filters": filters,
        "query": "&".join(f"{k}={v}" for k, v in filters.items() if v and k != "before"),
        "kinds": LogKind.choices,
        "hooks": hooks_for(org),
    }
    template = "hooks/partials/log_rows.html" if request.htmx else "hooks/logs.html"
    return render(request, template, ctx)


@require_POST
def routine_run(request: HttpRequest, pk: int) -> HttpResponse:
    org = require_org(request)
    routine = routine_run_now(actor=human_actor(request), routine=routine_get_for(org, pk))
    issue = routine.last_issue
    messages.success(request, f"{routine.name} ran now" + (f": {issue.key}." if issue else "."))
    return HttpResponseRedirect(reverse("hooks:settings"))


def _csv(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


@require_POST
def rule_new(request: HttpRequest) -> HttpResponse:
    org = require_org(request)
    post = request.POST
    slug = post.get("assignee", "").strip()
    filters: dict[str, object] = {}
    if _csv(post.get("labels_contain", "")):
        filters["labels_contain"] = _csv(post.get("labels_contain", ""))
    for key in ("branch_glob", "path_glob", "repository", "conclusion"):
        if post.get(key, "").strip():
            filters[key] = post[key].strip()
    if post.get("author_not_bot"):
        filters["author_not_bot"] = True
    try:
        rule_create(
            actor=human_actor(request),
            org=org,
            name=post.get("name", ""),
            source=post.get("source", ""),
            events=_csv(post.get("events", "")),
            filters=filters,
            action=post.get("action", Action.CREATE_ISSUE),
            title_template=post.get("title_template", ""),
            body_template=post.get("body_template", ""),
            assignee=Agent.objects.filter(org=org, slug=slug).first() if slug else None,
            labels=_csv(post.get("labels", "")),
            hydrate=bool(post.get("hydrate")),
        )
    except MesaError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("hooks:settings"))


@require_POST
def hook_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    org = require_org(request)
    hook = hook_get_for(org, pk)
    hook_set_enabled(actor=human_actor(request), hook=hook, enabled=not hook.enabled)
    return HttpResponseRedirect(reverse("hooks:settings"))

"""HTML views of the org: dashboard, activity, usage, settings, the org switcher, login and logout."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.keys import key_revoke
from agents.models import Agent, AgentStatus
from agents.selectors import key_get, keys_listed
from agents.services import agent_update
from blocks.models import WorkBlock, WorkBlockStatus
from blocks.services import alignment_score
from issues.labels import label_create
from issues.models import OPEN_STATUSES, TERMINAL_STATUSES, Issue, Label
from orgs.errors import Forbidden, InvalidInput, MesaError
from orgs.models import DEFAULT_FEATURES, Activity, Membership, Org, OrgRole
from orgs.selectors import orgs_visible
from orgs.services import membership_remove, membership_set, org_update
from runners.models import Run, RunStatus, SchedulerState
from runners.readiness import FALLBACK_RUNNER, agents_needing_setup
from runners.selectors import agent_states
from runners.services import scheduler_set_paused, scheduler_state_message
from runners.usage import UsageTotals, day_start, usage_by_agent, usage_by_day
from web.access import (
    SESSION_ORG_KEY,
    HtmxHttpRequest,
    back_url,
    current_org,
    fail,
    human_actor,
    login_required_here,
    require_org,
    role,
)
from web.local_login import SESSION_LOCAL_KEY, has_local_session, login_link_use

ACTIVITY_PAGE_SIZE = 50


def _dashboard_context(org: Org) -> dict[str, Any]:
    states = agent_states(org)
    cost_today = sum((r["today"].cost_usd for r in states if r["today"]), Decimal(0))
    budget = sum((r["agent"].daily_cost_limit_usd or Decimal(0) for r in states), Decimal(0))
    counts = Issue.objects.filter(org=org, archived_at__isnull=True).aggregate(
        open=Count("id", filter=Q(status__in=OPEN_STATUSES)), total=Count("id")
    )
    active_block = WorkBlock.objects.filter(org=org, status=WorkBlockStatus.ACTIVE).first()
    progress = None
    if active_block is not None:
        progress = Issue.objects.filter(work_block=active_block).aggregate(
            total=Count("id"), done=Count("id", filter=Q(status__in=TERMINAL_STATUSES))
        )
    return {
        "needs_setup": agents_needing_setup(r["agent"] for r in states),
        "fallback_runner": FALLBACK_RUNNER,
        "states": states,
        "agent_count": len(states),
        "running_count": sum(1 for r in states if r["state"] == "running"),
        "queued_count": Run.objects.filter(org=org, status=RunStatus.QUEUED).count(),
        "cost_today": cost_today,
        "budget_today": budget,
        "issue_counts": counts,
        "active_block": active_block,
        "progress": progress,
        "alignment": alignment_score(org),
        "recent_issues": list(
            Issue.objects.filter(org=org, archived_at__isnull=True)
            .select_related("assignee")
            .order_by("-updated_at")[:12]
        ),
        "activity": collapse_activity(list(Activity.objects.filter(org=org).order_by("-id")[:60]))[:20],
    }


def collapse_activity(rows: list[Activity]) -> list[Activity]:
    """Runs of the same actor doing the same verb to the same kind of object become one row.

    The first row of each run stays, with ``more`` set to how many others it stands for (so
    bootstrap's "created" rows for six agents and their labels read as two lines, not twenty).
    """
    out: list[Activity] = []
    for row in rows:
        last = out[-1] if out else None
        same = (row.actor_label, row.verb, row.object_type)
        if last is not None and (last.actor_label, last.verb, last.object_type) == same and not row.details.get("from"):
            last.more = getattr(last, "more", 0) + 1  # type: ignore[attr-defined]
            continue
        out.append(row)
    return out


@require_GET
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    org = current_org(request)
    if org is None:
        return render(request, "web/empty.html")
    ctx = _dashboard_context(org)
    if request.htmx and request.htmx.target == "dash-live":
        return render(request, "web/partials/dashboard_live.html", ctx)
    if request.htmx and request.htmx.target == "activity-feed":
        return render(request, "web/partials/feed.html", ctx)
    if request.htmx and request.htmx.target == "recent-issues":
        return render(request, "web/partials/recent_issues.html", ctx)
    return render(request, "web/dashboard.html", ctx)


@require_POST
def setup_fallback(request: HtmxHttpRequest) -> HttpResponse:
    """The setup banner's button: every agent whose runner cannot run here switches to ``dry_run``."""
    org = require_org(request)
    actor = human_actor(request)
    agents = Agent.objects.filter(org=org).exclude(status=AgentStatus.TERMINATED)
    switched = []
    for agent, _problem in agents_needing_setup(agents):
        agent_update(actor=actor, agent=agent, runner=FALLBACK_RUNNER, note="needs setup: switched from the banner")
        switched.append(agent.name)
    if switched:
        messages.success(request, f"{', '.join(switched)} now use {FALLBACK_RUNNER}.")
    return HttpResponseRedirect(reverse("web:dashboard"))


@require_GET
def approvals_badge(request: HtmxHttpRequest) -> HttpResponse:
    """The sidebar's pending-approvals badge alone (the context processor counts them)."""
    return render(request, "web/partials/approvals_badge.html")


@require_GET
def activity(request: HtmxHttpRequest) -> HttpResponse:
    """The audit trail, newest first, filterable by actor, verb and object type, 50 a page."""
    org = require_org(request)
    qs = Activity.objects.filter(org=org).select_related("actor_agent").order_by("-id")
    filters = {k: request.GET.get(k, "").strip() for k in ("actor", "verb", "object_type", "q")}
    if filters["actor"]:
        qs = qs.filter(actor_label=filters["actor"])
    if filters["verb"]:
        qs = qs.filter(verb=filters["verb"])
    if filters["object_type"]:
        qs = qs.filter(object_type=filters["object_type"])
    if filters["q"]:
        qs = qs.filter(Q(object_repr__icontains=filters["q"]) | Q(object_id__iexact=filters["q"]))
    page = Paginator(qs, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    # 14 UTC days ending today, zero-filled: a quiet day is an empty slot, not a missing bar.
    since = day_start() - timedelta(days=13)
    counts = {
        row["day"].isoformat(): row["n"]
        for row in Activity.objects.filter(org=org, created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    }
    days = [(since + timedelta(days=i)).date().isoformat() for i in range(14)]
    ctx = {
        "page": page,
        "filters": {k: v for k, v in filters.items() if v},
        "verbs": list(Activity.objects.filter(org=org).order_by().values_list("verb", flat=True).distinct()[:50]),
        "types": list(
            Activity.objects.filter(org=org).order_by().values_list("object_type", flat=True).distinct()[:50]
        ),
        "per_day": [(day, counts.get(day, 0)) for day in days],
    }
    template = (
        "web/partials/activity_rows.html"
        if request.htmx and request.htmx.target == "activity-list"
        else "web/activity.html"
    )
    return render(request, template, ctx)


@require_GET
def usage(request: HtmxHttpRequest) -> HttpResponse:
    """Tokens and cost per agent (today and 14 days) and per day, with a bar chart."""
    org = require_org(request)
    days = usage_by_day(org, days=14)
    since = day_start() - timedelta(days=13)
    per_agent = usage_by_agent(org, since=since)
    today = usage_by_agent(org, since=day_start())
    agents = list(Agent.objects.filter(org=org).order_by("name"))
    rows = [
        {"agent": a, "period": per_agent.get(a.pk), "today": today.get(a.pk)}
        for a in agents
        if per_agent.get(a.pk) or a.status != AgentStatus.TERMINATED
    ]
    rows.sort(key=lambda r: -(r["period"].cost_usd if isinstance(r["period"], UsageTotals) else 0))
    total_cost = sum((u.cost_usd for _, u in days), Decimal(0))
    total_tokens = sum(u.tokens for _, u in days)
    return render(
        request,
        "web/usage.html",
        {
            "rows": rows,
            "days": days,
            "cost_series": [(d, u.cost_usd) for d, u in days],
            "token_series": [(d, u.tokens) for d, u in days],
            "total_cost": total_cost,
            "total_tokens": total_tokens,
            "total_runs": sum(u.runs for _, u in days),
        },
    )


def _scheduler_state() -> dict[str, Any]:
    state = SchedulerState.objects.filter(pk=1).first()
    return {"paused": bool(state and state.paused), "state": state}


@require_http_methods(["GET", "POST"])
def settings_page(request: HtmxHttpRequest) -> HttpResponse:
    """Org name, issue prefix, feature flags, labels, notification settings, scheduler pause."""
    org = require_org(request)
    error: MesaError | None = None
    if request.method == "POST":
        action = request.POST.get("action", "org")
        actor = human_actor(request)
        try:
            if action == "org":
                features = {name: name in request.POST.getlist("features") for name in _feature_names(org)}
                org_update(
                    actor=actor,
                    org=org,
                    name=request.POST.get("name", ""),
                    issue_prefix=request.POST.get("issue_prefix", org.issue_prefix),
                    features=features,
                )
                messages.success(request, "Settings saved.")
            elif action == "ship":
                fields = ("mode", "forge", "api_url", "repo", "remote")
                org_update(actor=actor, org=org, ship={f: request.POST.get(f"ship_{f}", "") for f in fields})
                messages.success(request, "Shipping saved.")
            elif action == "label":
                label_create(
                    actor=actor,
                    org=org,
                    name=request.POST.get("label_name", ""),
                    color=request.POST.get("label_color", "#8b8d98"),
                )
                messages.success(request, "Label created.")
            elif action == "key_revoke":
                if role(request) != OrgRole.OWNER:
                    raise Forbidden("Only an owner of this org revokes its keys.", code="not_owner")
                key = key_get(org, request.POST.get("key", ""))
                key_revoke(actor=actor, key=key)
                messages.success(request, f"Revoked {key}.")
            elif action in {"member_set", "member_remove"}:
                _members_change(request, org, action)
            elif action in {"pause", "resume"}:
                state = scheduler_set_paused(actor=actor, paused=action == "pause")
                messages.success(request, scheduler_state_message(state))
        except MesaError as exc:
            error = exc
        else:
            return HttpResponseRedirect(reverse("web:settings"))
    ctx = {
        "error": error,
        "error_field": error.extra.get("field") if error else None,
        "features": [(name, org.feature(name)) for name in _feature_names(org)],
        "labels": list(Label.objects.filter(org=org).annotate(n=Count("issues"))),
        "ship": org.settings.get("ship") or {},
        "ship_modes": (("merge", "Merge"), ("pull_request", "Pull request"), ("none", "Keep the branch")),
        "forges": ("github", "gitlab"),
        "scheduler": _scheduler_state(),
        "values": request.POST if error else None,
        "login_required": not settings.MESA_TRUSTED_LOCAL,
        "members": list(Membership.objects.filter(org=org).select_related("user").order_by("user__username")),
        "roles": OrgRole.values,
        "keys": list(keys_listed(org)),
        "is_owner": role(request) == OrgRole.OWNER,
        "is_operator": human_actor(request).operator,
        "request_org_slug": org.slug,
    }
    return render(request, "web/settings.html", ctx, status=error.status if error else 200)


def _members_change(request: HtmxHttpRequest, org: Org, action: str) -> None:
    """Owners add, re-role and remove members (by username) from the Settings page."""
    if role(request) != OrgRole.OWNER:
        raise Forbidden("Only an owner of this org manages its members.", code="not_owner")
    username = request.POST.get("username", "").strip()
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise InvalidInput(f"There is no user {username!r}.", field="username")
    if action == "member_set":
        membership_set(actor=human_actor(request), org=org, user=user, role=request.POST.get("role", ""))
        messages.success(request, f"{username} is now {request.POST.get('role')} of {org.name}.")
    else:
        membership_remove(actor=human_actor(request), org=org, user=user)
        messages.success(request, f"{username} left {org.name}.")


def _feature_names(org: Org) -> list[str]:
    return sorted({*DEFAULT_FEATURES, *org.settings.get("features", {})})


@require_POST
def switch_org(request: HtmxHttpRequest) -> HttpResponse:
    """Remember the chosen org in the session."""
    slug = request.POST.get("org", "")
    visible = orgs_visible(request.user) if login_required_here() else Org.objects.all()
    if visible.filter(slug=slug).exists():
        request.session[SESSION_ORG_KEY] = slug
    else:
        messages.error(request, f"There is no org {slug!r}.")
    return HttpResponseRedirect(back_url(request, reverse("web:dashboard")))


@require_http_methods(["GET", "POST"])
def login_view(request: HtmxHttpRequest) -> HttpResponse:
    nxt = request.POST.get("next") or request.GET.get("next") or "/"
    error = ""
    if request.method == "POST":
        user = authenticate(
            request, username=request.POST.get("username", ""), password=request.POST.get("password", "")
        )
        if user is not None and user.is_active:
            login(request, user)
            return HttpResponseRedirect(back_url(request, "/"))
        error = "Wrong username or password."
    return render(
        request,
        "web/login.html",
        {"next": nxt, "error": error, "username": request.POST.get("username", "")},
        status=400 if error else 200,
    )


def login_locked(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """The answer while django-axes throttles this client or username (after too many wrong passwords)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    error = f"Too many failed sign-ins. Try again in {minutes} minutes."
    username = (credentials or {}).get("username", "") if isinstance(credentials, dict) else ""
    response = render(request, "web/login.html", {"next": "/", "error": error, "username": username}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


@require_GET
def local_login(request: HttpRequest) -> HttpResponse:
    """``/login/local?token=…``: the printed one-time link; the browser's session becomes the local operator's."""
    if login_link_use(request.GET.get("token", "")):
        request.session.cycle_key()  # a fresh session id: nothing from before the link carries over
        request.session[SESSION_LOCAL_KEY] = True
        return HttpResponseRedirect("/")
    if has_local_session(request):
        return HttpResponseRedirect("/")
    return render(request, "web/local_login.html", {"used": bool(request.GET.get("token"))}, status=401)


@require_POST
def logout_view(request: HtmxHttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(reverse("web:login"))


__all__ = [
    "activity",
    "dashboard",
    "fail",
    "login_locked",
    "local_login",
    "login_view",
    "logout_view",
    "settings_page",
    "switch_org",
    "usage",
]

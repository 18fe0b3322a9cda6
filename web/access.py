"""Who may see the HTML pages, which org they look at, and who they act as.

Trusted local mode (``settings.MESA_TRUSTED_LOCAL``, on by default when Mesa is
bound to loopback) serves the pages without a login and records human actions
as "local". Otherwise every page except the login page requires a Django user.
The agent API under ``/api/`` has its own bearer keys and is never redirected.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

from agents.models import Agent, AgentStatus
from approvals.models import Approval, ApprovalStatus
from issues.models import SavedView
from issues.selectors import saved_views_for
from orgs.actors import Actor
from orgs.errors import Forbidden, MesaError, NotFound
from orgs.models import Org, OrgRole
from orgs.selectors import org_default, org_role, orgs_visible
from web.local_login import LINK_PATH, has_local_session, local_session_required


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (every HTML view gets one)."""

    htmx: HtmxDetails


# /events and /palette/ answer fetch()/EventSource, not a person: they check the same rule
# themselves and answer a JSON 401 instead of a redirect to an HTML login page.
EXEMPT_PREFIXES: tuple[str, ...] = (
    "/api/",
    "/static/",
    "/login/",
    "/admin/",
    "/favicon.ico",
    "/events",
    "/palette/",
    # Providers post webhooks signed with the hook's secret, not with a session.
    "/hooks/",
)
SESSION_ORG_KEY = "mesa_org"
# Writes a viewer (or a user outside every org) may still make: choosing an org, leaving, their own password.
ROLE_EXEMPT_PATHS: frozenset[str] = frozenset({"/org/switch", "/logout/", "/profile/"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def login_required_here() -> bool:
    return not settings.MESA_TRUSTED_LOCAL


class AccessMiddleware:
    """Send anonymous visitors to the login page unless Mesa runs in trusted local mode."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if local_session_required() and not has_local_session(request) and not request.path.startswith(EXEMPT_PREFIXES):
            # Local mode: only the browser that opened the printed login link acts as the operator.
            if getattr(request, "htmx", False):
                return HttpResponse(status=204, headers={"HX-Redirect": LINK_PATH})
            return render(request, "web/local_login.html", {}, status=401)
        if login_required_here() and not request.path.startswith(EXEMPT_PREFIXES) and not request.user.is_authenticated:
            if getattr(request, "htmx", False):
                # A partial would land inside the page; send the whole tab to the login page.
                return HttpResponse(status=204, headers={"HX-Redirect": settings.LOGIN_URL})
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        refused = self._refuse_viewer(request)
        if refused is not None:
            return refused
        return self.get_response(request)

    def _refuse_viewer(self, request: HttpRequest) -> HttpResponse | None:
        """Every page write in login mode needs the owner or member role in the current org (one gate for all views)."""
        if (
            not login_required_here()
            or request.method in SAFE_METHODS
            or request.path.startswith(EXEMPT_PREFIXES)
            or request.path in ROLE_EXEMPT_PATHS
        ):
            return None
        if may_act(request):
            return None
        exc = Forbidden("You are a viewer in this org: viewers can look but not change anything.", code="viewer")
        if getattr(request, "htmx", False):
            return fail(request, exc, back="/")
        return HttpResponseForbidden(exc.message, content_type="text/plain; charset=utf-8")

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A selector's NotFound in an HTML view is Django's 404 page (the API renders its own errors)."""
        if isinstance(exception, NotFound):
            raise Http404(exception.message) from exception
        return None


def current_org(request: HttpRequest) -> Org | None:
    """The org chosen with the switcher (kept in the session), else the default org. Cached per request."""
    if hasattr(request, "_mesa_org"):
        cached: Org | None = request._mesa_org
        return cached
    org: Org | None = None
    slug = request.session.get(SESSION_ORG_KEY) if hasattr(request, "session") else None
    if login_required_here():
        # Login mode: only the orgs this user belongs to (the operator sees all).
        visible = orgs_visible(getattr(request, "user", None))
        org = visible.filter(slug=slug).first() if slug else None
        if org is None:
            default = org_default()
            org = default if default is not None and visible.filter(pk=default.pk).exists() else visible.first()
    else:
        if slug:
            org = Org.objects.filter(slug=slug).first()
        if org is None:
            org = org_default()
    request._mesa_org = org  # type: ignore[attr-defined]
    return org


def require_org(request: HttpRequest) -> Org:
    org = current_org(request)
    if org is None:
        raise Http404("No org yet. Create one with: python manage.py bootstrap --template startup")
    return org


def role(request: HttpRequest) -> str | None:
    """The user's role in the current org: "owner" in trusted local mode and for the operator; None outside."""
    if not login_required_here():
        return OrgRole.OWNER
    org = current_org(request)
    if org is None:
        return OrgRole.OWNER if getattr(request.user, "is_superuser", False) else None
    return org_role(request.user, org)


def may_act(request: HttpRequest) -> bool:
    """Whether the visitor may change things in the current org (owners and members; not viewers)."""
    return role(request) in {OrgRole.OWNER, OrgRole.MEMBER}


def human_actor(request: HttpRequest) -> Actor:
    """The actor for a human acting in the browser: the logged-in user, or "local" in trusted local mode."""
    user = request.user if request.user.is_authenticated else None
    if user is None:
        trusted = bool(settings.MESA_TRUSTED_LOCAL)
        # Local mode: the person at the machine is the instance operator.
        return Actor.human(label="local" if trusted else "anonymous", operator=trusted)
    return Actor.human(user=user, operator=bool(user.is_superuser))


def org_agents(request: HttpRequest) -> list[Any]:
    """The agents of the current org (id, slug, name, status), fetched once per request."""
    cached = getattr(request, "_mesa_agents", None)
    if cached is not None:
        return cached

    org = current_org(request)
    agents = (
        list(
            Agent.objects.filter(org=org)
            .only("id", "slug", "name", "archetype", "status", "runner", "model", "env", "sandbox")
            .order_by("name")
        )
        if org
        else []
    )
    request._mesa_agents = agents  # type: ignore[attr-defined]
    return agents


def offered_agents(request: HttpRequest) -> list[Any]:
    """The agents a picker offers: the org's agents less the archived (terminated) ones."""
    return [a for a in org_agents(request) if a.status != AgentStatus.TERMINATED]


def may_create_org(request: HttpRequest) -> bool:
    """Creating an org is the instance operator's: a superuser, or the person at the machine in local mode.

    An org's repository is a path on the Mesa machine, the same rule as an agent's working dir.
    """
    if not hasattr(request, "user"):
        return False  # a 404 from the static files handler: no middleware ran, nobody is known
    return human_actor(request).operator


def context(request: HttpRequest) -> dict[str, Any]:
    """Template context for every page: the org, the switcher, the nav badges."""
    if request.path.startswith(("/api/", "/admin/")):
        return {}

    org = current_org(request)

    # Computed only when a template renders them (the sidebar of full pages): the htmx
    # partials re-fetched on every live event skip both queries.
    @functools.cache
    def orgs() -> list[Org]:
        # Always listed, one org included (the switcher says which org this is), but only the user's orgs.
        visible = orgs_visible(request.user) if login_required_here() else Org.objects.all()
        return list(visible.only("id", "name", "slug")[:50])

    @functools.cache
    def pending_approvals() -> int:
        return Approval.objects.filter(org=org, status=ApprovalStatus.PENDING).count() if org else 0

    @functools.cache
    def saved_views() -> list[SavedView]:
        # The visitor's own saved board views: the sidebar lists them under Issues, the board's toolbar too.
        if not org or not hasattr(request, "user"):
            return []  # no org, or a 404 from the static files handler (no middleware ran, nobody is known)
        return saved_views_for(actor=human_actor(request), org=org)

    return {
        "org": org,
        "orgs": orgs,
        "saved_views": saved_views,
        "pending_approvals": pending_approvals,
        "trusted_local": settings.MESA_TRUSTED_LOCAL,
        "may_act": lambda: may_act(request),
        "org_role": lambda: role(request),
        "qc_agents": lambda: offered_agents(request),
        "may_create_org": lambda: may_create_org(request),
    }


def fail(request: HttpRequest, exc: MesaError, *, back: str) -> HttpResponse:
    """Report a refused action: a toast for htmx requests, a message + redirect otherwise. Nothing was written."""
    message = exc.message
    if getattr(request, "htmx", False):
        html = render_to_string("partials/toast.html", {"message": message, "level": "error"}, request=request)
        return HttpResponse(html, status=exc.status, headers={"HX-Retarget": "#toasts", "HX-Reswap": "beforeend"})
    messages.error(request, message)
    return HttpResponseRedirect(back)


def back_url(request: HttpRequest, default: str) -> str:
    """Where to return after a plain form POST: a same-site ``next`` field, else ``default``."""

    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return default

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
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

from agents.models import Agent
from approvals.models import Approval, ApprovalStatus
from orgs.actors import Actor
from orgs.errors import MesaError, NotFound
from orgs.models import Org
from orgs.selectors import org_default


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
)
SESSION_ORG_KEY = "mesa_org"


def login_required_here() -> bool:
    return not settings.MESA_TRUSTED_LOCAL


class AccessMiddleware:
    """Send anonymous visitors to the login page unless Mesa runs in trusted local mode."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if login_required_here() and not request.path.startswith(EXEMPT_PREFIXES) and not request.user.is_authenticated:
            if getattr(request, "htmx", False):
                # A partial would land inside the page; send the whole tab to the login page.
                return HttpResponse(status=204, headers={"HX-Redirect": settings.LOGIN_URL})
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)

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
    agents = list(Agent.objects.filter(org=org).only("id", "slug", "name", "status").order_by("name")) if org else []
    request._mesa_agents = agents  # type: ignore[attr-defined]
    return agents


def context(request: HttpRequest) -> dict[str, Any]:
    """Template context for every page: the org, the switcher, the nav badges."""
    if request.path.startswith(("/api/", "/admin/")):
        return {}

    org = current_org(request)

    # Computed only when a template renders them (the sidebar of full pages): the htmx
    # partials re-fetched on every live event skip both queries.
    @functools.cache
    def orgs() -> list[Org]:
        rows = list(Org.objects.only("id", "name", "slug")[:50])
        return rows if len(rows) > 1 else []

    @functools.cache
    def pending_approvals() -> int:
        return Approval.objects.filter(org=org, status=ApprovalStatus.PENDING).count() if org else 0

    return {
        "org": org,
        "orgs": orgs,
        "pending_approvals": pending_approvals,
        "trusted_local": settings.MESA_TRUSTED_LOCAL,
        "qc_agents": lambda: org_agents(request),
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

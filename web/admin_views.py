"""Admin in the browser: API key creation, labels, archived issues, and the profile page.

Every write calls the service the API and the CLI call (``agents.keys``, ``issues.archive``,
``issues.services``) with the human as ``actor``; viewers are refused by ``web.access``'s gate
before any of these views runs, owners-only actions are checked here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.db.models import Count
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.keys import key_create
from agents.models import AgentStatus, KeyKind
from agents.selectors import agent_ref
from issues.archive import issue_archive, issue_restore, label_archive, label_restore, label_update
from issues.labels import label_create
from issues.models import Label
from issues.selectors import issue_get_for, issues_archived, label_get
from orgs.errors import Forbidden, InvalidInput, MesaError
from orgs.models import Membership, OrgRole
from web.access import HtmxHttpRequest, current_org, fail, human_actor, require_org, role

KEY_KINDS = ((KeyKind.BOARD, "Board key (acts for the board)"), (KeyKind.AGENT, "Agent key (acts as its agent)"))


@require_POST
def key_new(request: HtmxHttpRequest) -> HttpResponse:
    """Mint a board or agent key; the page shows its secret this once (nothing keeps it)."""
    org = require_org(request)
    back = reverse("web:settings") + "#keys"
    try:
        if role(request) != OrgRole.OWNER:
            raise Forbidden("Only an owner of this org creates its keys.", code="not_owner")
        kind = request.POST.get("kind", KeyKind.BOARD)
        if kind not in (KeyKind.BOARD, KeyKind.AGENT):
            raise InvalidInput("Create a board key or an agent key.", field="kind")
        agent = agent_ref(org, request.POST.get("agent", ""), "agent") if kind == KeyKind.AGENT else None
        if agent is not None and agent.status == AgentStatus.TERMINATED:
            raise InvalidInput(f"{agent.slug} is archived: restore it before giving it a key.", field="agent")
        key, secret = key_create(
            actor=human_actor(request), org=org, kind=kind, agent=agent, name=request.POST.get("name", "").strip()
        )
    except MesaError as exc:
        return fail(request, exc, back=back)
    # Never cached: the secret must not come back from a cache or the back button.
    response = render(request, "web/key_created.html", {"key": key, "secret": secret})
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def labels_page(request: HtmxHttpRequest) -> HttpResponse:
    """Create, rename, recolour, archive and restore the org's labels."""
    org = require_org(request)
    error: MesaError | None = None
    error_label = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        actor = human_actor(request)
        try:
            if action == "create":
                label = label_create(
                    actor=actor, org=org, name=request.POST.get("name", ""), color=request.POST.get("color", "#8b8d98")
                )
                messages.success(request, f"Label {label.name} created.")
            else:
                error_label = request.POST.get("label", "")
                label = label_get(org=org, label_id=error_label)
                if action == "update":
                    label_update(
                        actor=actor, label=label, name=request.POST.get("name"), color=request.POST.get("color")
                    )
                    messages.success(request, f"Label {label.name} saved.")
                elif action == "archive":
                    label_archive(actor=actor, label=label)
                    messages.success(request, f"Label {label.name} archived: no longer offered, kept on its issues.")
                elif action == "restore":
                    label_restore(actor=actor, label=label)
                    messages.success(request, f"Label {label.name} restored.")
                else:
                    raise InvalidInput("Unknown label action.", field="action")
        except MesaError as exc:
            error = exc
        else:
            return HttpResponseRedirect(reverse("web:labels"))
    rows = list(Label.objects.filter(org=org).annotate(n=Count("issues")).order_by("name"))
    ctx = {
        "labels": [lab for lab in rows if lab.archived_at is None],
        "archived": [lab for lab in rows if lab.archived_at is not None],
        "error": error,
        "error_field": error.extra.get("field") if error else None,
        "error_label": error_label,
        "values": request.POST if error else {},
    }
    return render(request, "web/labels.html", ctx, status=error.status if error else 200)


@require_GET
def issues_archived_page(request: HtmxHttpRequest) -> HttpResponse:
    """The Archived view: issues taken off the board, newest first, each with Restore."""
    org = require_org(request)
    return render(request, "web/issues_archived.html", {"issues": issues_archived(org=org)})


# Archive and restore differ only in the service and what the toast says.
_ARCHIVE_ACTIONS = {
    "archive": (issue_archive, "{key} archived: off the board and never dispatched until restored."),
    "restore": (issue_restore, "{key} restored."),
}


def _issue_archive_action(request: HtmxHttpRequest, key: str, action: str) -> HttpResponse:
    org = require_org(request)
    actor = human_actor(request)
    issue = issue_get_for(actor=actor, org=org, key=key)
    url = reverse("issues:detail", args=[issue.key])
    service, done = _ARCHIVE_ACTIONS[action]
    try:
        service(actor=actor, issue=issue)
    except MesaError as exc:
        return fail(request, exc, back=url)
    messages.success(request, done.format(key=issue.key))
    return HttpResponseRedirect(url)


@require_POST
def issue_archive_view(request: HtmxHttpRequest, key: str) -> HttpResponse:
    return _issue_archive_action(request, key, "archive")


@require_POST
def issue_restore_view(request: HtmxHttpRequest, key: str) -> HttpResponse:
    return _issue_archive_action(request, key, "restore")


@require_http_methods(["GET", "POST"])
def profile(request: HtmxHttpRequest) -> HttpResponse:
    """The logged-in user's name, email, password, org memberships and theme; local mode has no account."""
    user = request.user if request.user.is_authenticated else None
    form: PasswordChangeForm | None = PasswordChangeForm(user) if user is not None else None
    if request.method == "POST":
        if user is None:
            return fail(request, InvalidInput("Local mode has no account to change."), back=reverse("web:profile"))
        form = PasswordChangeForm(user, request.POST)
        if form.is_valid():
            form.save()
            update_session_auth_hash(request, form.user)  # stay signed in with the new password
            messages.success(request, "Password changed.")
            return HttpResponseRedirect(reverse("web:profile"))
    memberships: list[Any] = []
    if user is not None:
        memberships = list(Membership.objects.filter(user=user).select_related("org").order_by("org__name"))
    ctx = {
        "account": user,
        "form": form,
        "memberships": memberships,
        "is_operator": bool(user is not None and user.is_superuser),
        "trusted_local": settings.MESA_TRUSTED_LOCAL,
        "current": current_org(request),
    }
    return render(request, "web/profile.html", ctx, status=400 if form is not None and form.errors else 200)

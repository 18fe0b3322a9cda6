"""HTML views for approvals: the inbox and approve / reject with a comment."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from approvals.models import Approval, ApprovalStatus
from approvals.selectors import approval_get_for
from approvals.services import approval_resolve
from orgs.errors import MesaError
from web.access import HtmxHttpRequest, back_url, fail, human_actor, require_org

_RELATED = ("issue", "work_block", "subject_agent", "reviewer", "requested_by_agent", "archetype_patch")


@require_GET
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    """Pending approvals first (oldest first: they have waited longest), then the 30 latest decisions."""
    org = require_org(request)
    pending = list(
        Approval.objects.filter(org=org, status=ApprovalStatus.PENDING).select_related(*_RELATED).order_by("created_at")
    )
    decided = list(
        Approval.objects.filter(org=org)
        .exclude(status=ApprovalStatus.PENDING)
        .select_related(*_RELATED)
        .order_by("-decided_at")[:30]
    )
    ctx = {"pending": pending, "decided": decided}
    if request.htmx and request.htmx.target == "approvals-inbox":
        return render(request, "approvals/partials/inbox.html", ctx)
    return render(request, "approvals/inbox.html", ctx)


@require_POST
def resolve(request: HtmxHttpRequest, approval_id: int) -> HttpResponse:
    org = require_org(request)
    approval = approval_get_for(actor=human_actor(request), org=org, approval_id=approval_id, to_decide=True)
    url = back_url(request, reverse("approvals:inbox"))
    try:
        approval = approval_resolve(
            actor=human_actor(request),
            approval=approval,
            decision=request.POST.get("decision", ""),
            comment=request.POST.get("comment", ""),
        )
    except MesaError as exc:
        return fail(request, exc, back=url)
    if request.htmx:
        return render(request, "approvals/partials/approval.html", {"approval": approval})
    return HttpResponseRedirect(url)

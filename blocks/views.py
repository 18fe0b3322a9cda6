"""HTML views for work blocks (sprints, with lifecycle buttons and metrics) and the strategy page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from blocks.models import ApexBlock, ApexStatus, WorkBlock, WorkBlockStatus
from blocks.selectors import work_block_get_for
from blocks.services import (
    WORK_BLOCK_TRANSITIONS,
    alignment_score,
    apex_block_create,
    apex_block_update,
    require_block_editor,
    work_block_create,
    work_block_transition,
    work_block_update,
)
from issues.bulk import do_issues_set_work_block
from issues.burndown import work_block_burndown
from issues.models import OPEN_STATUSES, TERMINAL_STATUSES, Issue, Status
from orgs.errors import InvalidInput, MesaError
from orgs.models import Org
from orgs.numbers import whole_number
from runners.models import Run
from web.access import HtmxHttpRequest, fail, human_actor, require_org

OPEN_BLOCK_STATUSES = (WorkBlockStatus.ACTIVE, WorkBlockStatus.READY)
ACTION_LABELS: dict[str, str] = {
    WorkBlockStatus.ACTIVE: "Activate",
    WorkBlockStatus.READY: "Mark ready",
    WorkBlockStatus.SHIPPED: "Ship",
    WorkBlockStatus.CANCELLED: "Cancel",
}


@dataclass
class Metrics:
    planned: int = 0
    completed: int = 0
    cancelled: int = 0
    runs: int = 0
    cost: Decimal = Decimal(0)
    cycle: timedelta | None = None

    @property
    def cycle_seconds(self) -> float | None:
        return self.cycle.total_seconds() if self.cycle is not None else None


def block_metrics(org: Org, block_ids: list[int]) -> dict[int, Metrics]:
    """Per block: planned / completed / cancelled issues, runs and cost of its issues, mean cycle time (3 queries).

    Archived issues (and their runs) are left out, as everywhere on the block pages.
    """
    out = {pk: Metrics() for pk in block_ids}
    if not block_ids:
        return out
    for row in (
        Issue.objects.filter(org=org, work_block_id__in=block_ids, archived_at__isnull=True)
        .values("work_block_id")
        .annotate(
            planned=Count("id"),
            completed=Count("id", filter=Q(status=Status.DONE)),
            cancelled=Count("id", filter=Q(status__in=[Status.CANCELLED, Status.WONT_DO])),
        )
        .order_by()
    ):
        m = out[row["work_block_id"]]
        m.planned, m.completed, m.cancelled = row["planned"], row["completed"], row["cancelled"]
    runs = (
        Run.objects.filter(org=org, issue__work_block_id__in=block_ids, issue__archived_at__isnull=True)
        .values_list("issue__work_block_id")
        .annotate(n=Count("id"), cost=Sum("cost_usd"))
        .order_by()
    )
    for block_id, n, cost in runs:
        m = out[block_id]
        m.runs, m.cost = n, Decimal(cost or 0)
    spans: dict[int, list[timedelta]] = {}
    for block_id, started, completed in Issue.objects.filter(
        org=org,
        work_block_id__in=block_ids,
        archived_at__isnull=True,
        status=Status.DONE,
        started_at__isnull=False,
        completed_at__isnull=False,
    ).values_list("work_block_id", "started_at", "completed_at"):
        if block_id is not None and started is not None and completed is not None:
            spans.setdefault(block_id, []).append(completed - started)
    for block_id, values in spans.items():
        out[block_id].cycle = sum(values, timedelta()) / len(values)
    return out


@require_http_methods(["GET", "POST"])
def block_list(request: HtmxHttpRequest) -> HttpResponse:
    """All work blocks with metrics; POST proposes a new one."""
    org = require_org(request)
    error: MesaError | None = None
    if request.method == "POST":
        try:
            apex_pk = whole_number(request.POST.get("apex_block"), minimum=1)
            apex = ApexBlock.objects.filter(org=org, pk=apex_pk).first() if apex_pk else None
            block = work_block_create(
                actor=human_actor(request),
                org=org,
                title=request.POST.get("title", ""),
                goal=request.POST.get("goal", ""),
                acceptance_criteria=request.POST.get("acceptance_criteria", ""),
                north_star_metric=request.POST.get("north_star_metric", ""),
                north_star_target=request.POST.get("north_star_target", ""),
                apex_block=apex,
                start_date=request.POST.get("start_date", ""),
                end_date=request.POST.get("end_date", ""),
            )
        except MesaError as exc:
            error = exc
        else:
            return HttpResponseRedirect(reverse("blocks:detail", args=[block.pk]))
    blocks = list(WorkBlock.objects.filter(org=org).select_related("apex_block").order_by("-created_at"))
    metrics = block_metrics(org, [b.pk for b in blocks])
    order = {s: i for i, s in enumerate(["active", "ready", "proposed", "shipped", "cancelled"])}
    blocks.sort(key=lambda b: order.get(b.status, 9))
    current = current_cycle(blocks)
    return render(
        request,
        "blocks/list.html",
        {
            "rows": [(b, metrics[b.pk]) for b in blocks],
            "current": current,
            "current_metrics": metrics[current.pk] if current else None,
            "apexes": list(ApexBlock.objects.filter(org=org, status=ApexStatus.ACTIVE)),
            "error": error,
            "values": request.POST if error else {},
        },
        status=error.status if error else 200,
    )


def current_cycle(blocks: list[WorkBlock]) -> WorkBlock | None:
    """The open block whose dates span today, the active one first; None when no cycle runs today."""
    today = timezone.localdate()
    running = [
        b for b in blocks if not b.is_closed and b.start_date and b.end_date and b.start_date <= today <= b.end_date
    ]
    running.sort(key=lambda b: (b.status != WorkBlockStatus.ACTIVE, b.end_date))
    return running[0] if running else None


def _get_block(request: HtmxHttpRequest, org: Org, block_id: int) -> WorkBlock:
    # The selector's NotFound becomes the 404 page in web.access.AccessMiddleware.
    return work_block_get_for(actor=human_actor(request), org=org, block_id=block_id)


def _render_detail(
    request: HtmxHttpRequest,
    org: Org,
    block: WorkBlock,
    *,
    error: MesaError | None = None,
    values: Any = None,
) -> HttpResponse:
    issues = list(
        Issue.objects.filter(work_block=block, archived_at__isnull=True)
        .select_related("assignee")
        .order_by("status", "-priority")[:500]
    )
    metrics = block_metrics(org, [block.pk])[block.pk]
    burndown = None
    if block.start_date and block.end_date:
        burndown = work_block_burndown(org=org, block_id=block.pk, start=block.start_date, end=block.end_date)
    # What "Add issues" offers: open issues of the org in no block or another one (newest first).
    candidates = (
        []
        if block.is_closed
        else list(
            Issue.objects.filter(org=org, status__in=OPEN_STATUSES, archived_at__isnull=True)
            .exclude(work_block=block)
            .select_related("work_block")
            .order_by("-number")[:500]
        )
    )
    return render(
        request,
        "blocks/detail.html",
        {
            "wb": block,
            "metrics": metrics,
            "issues": issues,
            "burndown": burndown,
            "candidates": candidates,
            "actions": [(s, ACTION_LABELS.get(s, s)) for s in WORK_BLOCK_TRANSITIONS.get(block.status, ())],
            # Active goals plus the one it serves now (even archived), so saving keeps the link.
            "apexes": list(ApexBlock.objects.filter(Q(status=ApexStatus.ACTIVE) | Q(pk=block.apex_block_id), org=org)),
            "terminal": TERMINAL_STATUSES,
            "error": error,
            "error_field": error.extra.get("field", "") if error else "",
            "values": values,
        },
        status=error.status if error else 200,
    )


@require_GET
def block_detail(request: HtmxHttpRequest, block_id: int) -> HttpResponse:
    org = require_org(request)
    return _render_detail(request, org, _get_block(request, org, block_id))


@require_POST
def block_move(request: HtmxHttpRequest, block_id: int) -> HttpResponse:
    org = require_org(request)
    block = _get_block(request, org, block_id)
    url = reverse("blocks:detail", args=[block.pk])
    try:
        work_block_transition(actor=human_actor(request), block=block, to=request.POST.get("status", ""))
    except MesaError as exc:
        return fail(request, exc, back=url)
    return HttpResponseRedirect(url)


@require_POST
def block_edit(request: HtmxHttpRequest, block_id: int) -> HttpResponse:
    """Save the edit form; a refusal re-renders the page with the message beside the form (and the input kept)."""
    org = require_org(request)
    block = _get_block(request, org, block_id)
    post = request.POST
    try:
        apex_pk = whole_number(post.get("apex_block"), minimum=1)
        apex = ApexBlock.objects.filter(org=org, pk=apex_pk).first() if apex_pk else None
        work_block_update(
            actor=human_actor(request),
            block=block,
            title=post.get("title", block.title),
            goal=post.get("goal", block.goal),
            acceptance_criteria=post.get("acceptance_criteria", block.acceptance_criteria),
            north_star_metric=post.get("north_star_metric", block.north_star_metric),
            north_star_target=post.get("north_star_target", block.north_star_target),
            apex_block=apex,
            start_date=post.get("start_date", block.start_date),
            end_date=post.get("end_date", block.end_date),
        )
    except MesaError as exc:
        return _render_detail(request, org, _get_block(request, org, block_id), error=exc, values=post)
    return HttpResponseRedirect(reverse("blocks:detail", args=[block.pk]))


@require_POST
def block_add_issues(request: HtmxHttpRequest, block_id: int) -> HttpResponse:
    """Put the ticked issues (``key``, repeated) into the block, all or none; a toast says how many."""
    org = require_org(request)
    block = _get_block(request, org, block_id)
    url = reverse("blocks:detail", args=[block.pk])
    actor = human_actor(request)
    keys = list(dict.fromkeys(k.strip().upper() for k in request.POST.getlist("key") if k.strip()))
    try:
        require_block_editor(actor)
        found = {i.key: i for i in Issue.objects.select_related("org", "assignee").filter(org=org, key__in=keys)}
        missing = [k for k in keys if k not in found]
        if missing:
            raise InvalidInput(f"There is no issue {', '.join(missing)} in this org.", field="key")
        if not keys:
            raise InvalidInput("Tick at least one issue to add.", field="key")
        # The block permission (checked above) governs membership, not each issue's.
        moved = do_issues_set_work_block(actor=actor, issues=[found[k] for k in keys], work_block=block)
    except MesaError as exc:
        return fail(request, exc, back=url)
    messages.success(request, f"Added {moved} issue{'s' if moved != 1 else ''} to {block.title}.")
    return HttpResponseRedirect(url)


@require_http_methods(["GET", "POST"])
def strategy(request: HtmxHttpRequest) -> HttpResponse:
    """Apex blocks with their aligned work blocks, the alignment score and the drift (unaligned active work)."""
    org = require_org(request)
    error: MesaError | None = None
    if request.method == "POST":
        actor = human_actor(request)
        try:
            apex_pk = whole_number(request.POST.get("apex"), minimum=1)
            if apex_pk is not None:
                apex = ApexBlock.objects.filter(org=org, pk=apex_pk).first()
                if apex is None:
                    raise Http404("There is no such goal.")
                apex_block_update(actor=actor, apex=apex, status=request.POST.get("status", apex.status))
            else:
                apex_block_create(
                    actor=actor, org=org, title=request.POST.get("title", ""), goal=request.POST.get("goal", "")
                )
        except MesaError as exc:
            error = exc
        else:
            return HttpResponseRedirect(reverse("blocks:strategy"))
    apexes = list(ApexBlock.objects.filter(org=org).order_by("status", "-created_at"))
    blocks = list(WorkBlock.objects.filter(org=org).exclude(status=WorkBlockStatus.CANCELLED).order_by("-created_at"))
    by_apex: dict[int | None, list[WorkBlock]] = {}
    for b in blocks:
        by_apex.setdefault(b.apex_block_id, []).append(b)
    active_apex_ids = {a.pk for a in apexes if a.status == ApexStatus.ACTIVE}
    drift = [b for b in blocks if b.status in OPEN_BLOCK_STATUSES and b.apex_block_id not in active_apex_ids]
    drift_issue_count = (
        Issue.objects.filter(work_block__in=drift, archived_at__isnull=True)
        .exclude(status__in=TERMINAL_STATUSES)
        .count()
        if drift
        else 0
    )
    ctx: dict[str, Any] = {
        "apexes": [(a, by_apex.get(a.pk, [])) for a in apexes],
        "unaligned": by_apex.get(None, []),
        "alignment": alignment_score(org),
        "drift": drift,
        "drift_issue_count": drift_issue_count,
        "error": error,
        "values": request.POST if error else {},
    }
    return render(request, "blocks/strategy.html", ctx, status=error.status if error else 200)

"""HTML views of one run: live transcript, status, timing, tokens, cost, diff, prompt, failure reason; cancel."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from orgs.errors import MesaError
from runners.models import Run
from runners.selectors import run_get_for
from runners.services import run_cancel
from web.access import HtmxHttpRequest, back_url, fail, human_actor, require_org

TRANSCRIPT_LIMIT = 1000


@require_GET
def detail(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    org = require_org(request)
    run = Run.objects.select_related("agent", "issue", "evaluation", "judged").filter(org=org, pk=run_id).first()
    if run is None:
        raise Http404(f"There is no run {run_id}.")
    events = list(run.events.order_by("-seq")[:TRANSCRIPT_LIMIT])[::-1]
    ctx = {
        "run": run,
        "events": events,
        "truncated": len(events) == TRANSCRIPT_LIMIT,
        # A task run's scores, and for a judge's run the evaluation it produced (either may be missing).
        "evaluation": getattr(run, "evaluation", None),
        "judged": getattr(run, "judged", None),
    }
    if request.htmx and request.htmx.target == "run-live":
        return render(request, "runners/partials/run_live.html", ctx)
    return render(request, "runners/run.html", ctx)


@require_POST
def cancel(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """Cancel the run (the service checks who may); htmx swaps the button for its new state."""
    org = require_org(request)
    actor = human_actor(request)
    run = run_get_for(actor=actor, org=org, run_id=run_id)
    back = back_url(request, reverse("runners:detail", args=[run.pk]))
    try:
        run = run_cancel(actor=actor, run=run, reason=request.POST.get("reason", "").strip()[:500])
    except MesaError as exc:
        return fail(request, exc, back=back)
    if request.htmx:
        return render(request, "runners/partials/cancel_button.html", {"run": run})
    messages.success(request, f"Run #{run.pk} {'cancelled' if run.is_finished else 'is being stopped'}.")
    return HttpResponseRedirect(back)

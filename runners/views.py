"""HTML view of one run: live transcript, status, timing, tokens, cost, diff, prompt, failure reason."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from runners.models import Run
from web.access import HtmxHttpRequest, require_org

TRANSCRIPT_LIMIT = 1000


@require_GET
def detail(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    org = require_org(request)
    run = Run.objects.select_related("agent", "issue").filter(org=org, pk=run_id).first()
    if run is None:
        raise Http404(f"There is no run {run_id}.")
    events = list(run.events.order_by("-seq")[:TRANSCRIPT_LIMIT])[::-1]
    ctx = {"run": run, "events": events, "truncated": len(events) == TRANSCRIPT_LIMIT}
    if request.htmx and request.htmx.target == "run-live":
        return render(request, "runners/partials/run_live.html", ctx)
    return render(request, "runners/run.html", ctx)

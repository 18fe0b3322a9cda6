"""Settings › Runners: ``manage.py doctor``'s findings, the container engine, the host-runs switch and workers.

Its own module: the doctor and the workers import the sandboxes, GitPython and the docker SDK, which no
other page needs (the URL loads this module at the first visit of the page).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agents.models import Agent, AgentStatus
from runners.management.commands.doctor import agent_rows, doctor_rows
from runners.readiness import FALLBACK_RUNNER, agents_needing_setup
from runners.sandboxes.engine import engine_info
from web.access import HtmxHttpRequest, human_actor, require_org
from web.host_runs_views import host_runs_context
from web.worker_views import PARTIAL as WORKERS_PARTIAL
from web.worker_views import workers_context


@require_GET
def runners_page(request: HtmxHttpRequest) -> HttpResponse:
    """Settings › Runners: ``manage.py doctor``'s findings, and which agents need setup."""
    org = require_org(request)
    actor = human_actor(request)
    if request.htmx and request.htmx.target == "workers":
        return render(request, WORKERS_PARTIAL, {"w": workers_context(actor, org)})
    agents = Agent.objects.filter(org=org).exclude(status=AgentStatus.TERMINATED).order_by("name")
    info = engine_info()
    ctx = {
        "rows": doctor_rows(),
        "needs_setup": agents_needing_setup(agents),
        "fallback_runner": FALLBACK_RUNNER,
        "engine": info,
        "agent_rows": agent_rows(list(agents.select_related("org")), info),
        "host_runs": host_runs_context(actor),
        "w": workers_context(actor, org),
    }
    return render(request, "web/runners.html", ctx)

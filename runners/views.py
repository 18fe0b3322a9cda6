"""HTML views of one run: live transcript, terminal, status, timing, tokens, cost, diff, prompt, failure reason;
cancel; attach someone to its terminal (bindings)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agents.models import Agent, AgentStatus, Sandbox
from agents.selectors import agent_ref
from orgs.errors import MesaError
from runners.bindings import binding_end, binding_get_for, binding_grant, binding_grantable_by, bindings_for_run
from runners.models import Run
from runners.selectors import run_get_for
from runners.services import run_cancel
from runners.terminal_stream import stream_path, terminals_dir
from web.access import HtmxHttpRequest, back_url, fail, human_actor, may_act, require_org

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
    run.org = org
    may_bind = not run.is_finished and may_act(request) and binding_grantable_by(human_actor(request), run)
    ctx.update(
        {
            "has_terminal": (run.agent.uses_pty and run.agent.sandbox == Sandbox.HOST and not run.is_finished)
            or stream_path(terminals_dir(), run.pk).exists(),
            "bindings": bindings_for_run(run),
            "may_bind": may_bind,
            "bind_agents": (
                Agent.objects.filter(org=org).exclude(pk=run.agent_id).exclude(status=AgentStatus.TERMINATED)
                if may_bind
                else []
            ),
        }
    )
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


@require_POST
def binding_create(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """Attach an agent or a user to the run's terminal (the service checks who may grant)."""
    org = require_org(request)
    actor = human_actor(request)
    run = run_get_for(actor=actor, org=org, run_id=run_id)
    back = reverse("runners:detail", args=[run.pk])
    try:
        binding = binding_grant(
            actor=actor,
            run=run,
            mode=request.POST.get("mode", ""),
            agent=agent_ref(org, request.POST.get("agent", ""), "agent"),
            username=request.POST.get("user", "").strip(),
        )
    except MesaError as exc:
        return fail(request, exc, back=back)
    messages.success(request, f"{binding.holder_label} can {binding.mode} run #{run.pk}'s terminal.")
    return HttpResponseRedirect(back)


@require_POST
def binding_end_view(request: HtmxHttpRequest, run_id: int, binding_id: int) -> HttpResponse:
    org = require_org(request)
    actor = human_actor(request)
    binding = binding_get_for(actor=actor, org=org, binding_id=binding_id)
    if binding.run_id != run_id:
        raise Http404(f"Run {run_id} has no binding {binding_id}.")
    back = reverse("runners:detail", args=[binding.run_id])
    try:
        binding_end(actor=actor, binding=binding)
    except MesaError as exc:
        return fail(request, exc, back=back)
    messages.success(request, f"{binding.holder_label} is no longer attached.")
    return HttpResponseRedirect(back)

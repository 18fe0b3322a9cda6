"""HTML pages of how the org learns: Observability (evaluations rolled up), Skills, Board policies, Audits.

Each is a small function view; a POST names its ``action`` and calls the same service the API calls.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from agents.models import Agent, AgentStatus
from learning.models import AuditFinding, BoardPolicy
from learning.rollups import by_agent, by_archetype, recent_reflections, scored, skills_with_scores, worst_runs
from learning.selectors import learning_settings, policy_get, skill_get
from learning.services import learning_settings_update, policy_create, policy_update, skill_propose, skill_retire
from orgs.errors import InvalidInput, MesaError
from runners.audit import audit_request, auditor_for
from runners.models import Run, RunMode
from web.access import HtmxHttpRequest, fail, human_actor, require_org


def _agents(org: Any) -> list[Agent]:
    return list(
        Agent.objects.filter(org=org).exclude(status=AgentStatus.TERMINATED).only("slug", "name").order_by("name")
    )


def _hours(raw: str) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        raise InvalidInput("Audit every: a whole number of hours.", field="audit_every_hours") from None


@require_http_methods(["GET", "POST"])
def observability(request: HtmxHttpRequest) -> HttpResponse:
    """Evaluation scores per agent and per archetype with their weekly trend, and the worst runs first."""
    org = require_org(request)
    here = reverse("learning:observability")
    if request.method == "POST":
        try:
            learning_settings_update(
                actor=human_actor(request),
                org=org,
                evaluations=request.POST.get("evaluations") == "on",
                judge=request.POST.get("judge", ""),
                auditor=request.POST.get("auditor", ""),
                audit_every_hours=_hours(request.POST.get("audit_every_hours", "0")),
            )
        except MesaError as exc:
            return fail(request, exc, back=here)
        messages.success(request, "Learning settings saved.")
        return HttpResponseRedirect(here)
    weeks, agents = by_agent(org)
    _, archetypes = by_archetype(org)
    ctx = {
        "weeks": weeks,
        "agent_rows": agents,
        "archetype_rows": archetypes,
        "worst": worst_runs(org),
        "reflections": recent_reflections(org),
        "scored_count": scored(org).count(),
        "learning": learning_settings(org),
        "agents": _agents(org),
    }
    return render(request, "learning/observability.html", ctx)


@require_http_methods(["GET", "POST"])
def skills(request: HtmxHttpRequest) -> HttpResponse:
    """Skills with where they were used and the evaluation scores of those runs; the board adds or retires them."""
    org = require_org(request)
    here = reverse("learning:skills")
    if request.method == "POST":
        actor = human_actor(request)
        try:
            if request.POST.get("action") == "retire":
                skill = skill_retire(actor=actor, skill=skill_get(org=org, slug=request.POST.get("slug", "")))
                messages.success(request, f"Skill “{skill.title}” retired.")
            else:
                slug = request.POST.get("agent", "").strip()
                agent = Agent.objects.filter(org=org, slug=slug).first() if slug else None
                if slug and agent is None:
                    raise InvalidInput(f"No agent @{slug} in this org.", field="agent")
                skill = skill_propose(
                    actor=actor,
                    org=org,
                    title=request.POST.get("title", ""),
                    body=request.POST.get("body", ""),
                    archetype=request.POST.get("archetype", ""),
                    agent=agent,
                )
                messages.success(request, f"Skill “{skill.title}” added for {skill.target}.")
        except MesaError as exc:
            return fail(request, exc, back=here)
        return HttpResponseRedirect(here)
    return render(request, "learning/skills.html", {"skills": skills_with_scores(org), "agents": _agents(org)})


@require_http_methods(["GET", "POST"])
def policies(request: HtmxHttpRequest) -> HttpResponse:
    """The board's standing directives: in every prompt of the org while active."""
    org = require_org(request)
    here = reverse("learning:policies")
    if request.method == "POST":
        actor = human_actor(request)
        try:
            if request.POST.get("action") == "toggle":
                policy = policy_get(org=org, policy_id=request.POST.get("policy", ""))
                policy_update(actor=actor, policy=policy, active=not policy.active)
                messages.success(request, f"Policy {'activated' if policy.active else 'deactivated'}.")
            else:
                policy_create(actor=actor, org=org, text=request.POST.get("text", ""))
                messages.success(request, "Policy added: every prompt of the org carries it.")
        except MesaError as exc:
            return fail(request, exc, back=here)
        return HttpResponseRedirect(here)
    rows = list(BoardPolicy.objects.filter(org=org).order_by("-active", "id"))
    return render(request, "learning/policies.html", {"policies": rows})


AUDITS_SHOWN = 10


@require_http_methods(["GET", "POST"])
def audits(request: HtmxHttpRequest) -> HttpResponse:
    """Audit runs with their findings (each proposal linked to its approval); "Run audit now"."""
    org = require_org(request)
    here = reverse("learning:audits")
    if request.method == "POST":
        try:
            run = audit_request(actor=human_actor(request), org=org)
        except MesaError as exc:
            return fail(request, exc, back=here)
        messages.success(request, f"Audit queued: run #{run.pk} of @{run.agent.slug}.")
        return HttpResponseRedirect(here)
    findings = AuditFinding.objects.select_related("approval").order_by("id")
    runs = list(
        Run.objects.filter(org=org, mode=RunMode.AUDIT)
        .select_related("agent")
        .defer("prompt", "stdout", "diff", "stderr")
        .prefetch_related(Prefetch("audit_findings", queryset=findings))
        .order_by("-id")[:AUDITS_SHOWN]
    )
    ctx = {"runs": runs, "auditor": auditor_for(org), "learning": learning_settings(org)}
    return render(request, "learning/audits.html", ctx)

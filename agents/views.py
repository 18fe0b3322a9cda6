"""HTML views for agents: list, org chart, the agent page (config, versions, runs, usage, inbox) and its actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.models import (
    CONFIG_FIELDS,
    Agent,
    AgentStatus,
    AgentVersion,
    CredentialSet,
    Egress,
    Runner,
    Sandbox,
    Terminal,
)
from agents.selectors import agent_ref
from agents.services import agent_archive, agent_create, agent_restore, agent_resume, agent_rollback, agent_update
from approvals.models import Approval, ApprovalStatus
from archetypes.loader import archetype_list
from issues.models import OPEN_STATUSES, Issue
from orgs.errors import InvalidInput, MesaError
from orgs.models import Org
from orgs.numbers import whole_number
from orgs.secrets import env_masked
from runners.budget import over_budget_ids
from runners.models import ACTIVE_RUN_STATUSES, Run, ShipMode
from runners.selectors import agent_states
from runners.services import agent_pause_runs, run_enqueue
from runners.usage import agent_usage_today, usage_by_day
from web.access import HtmxHttpRequest, fail, human_actor, require_org

# Fields of the configuration form, in order; the FK fields take a slug. Status has its own
# pause/resume buttons and env values are secrets, so neither is on the form.
FORM_FIELDS: tuple[str, ...] = tuple(f for f in CONFIG_FIELDS if f not in {"status", "env"})


def _get_agent(org: Org, slug: str) -> Agent:
    agent = Agent.objects.select_related("reports_to", "review_agent").filter(org=org, slug=slug).first()
    if agent is None:
        raise Http404(f"There is no agent {slug!r}.")
    return agent


@require_http_methods(["GET", "POST"])
def agent_list(request: HtmxHttpRequest) -> HttpResponse:
    """All agents with their live state and open work; POST creates one."""
    org = require_org(request)
    error: MesaError | None = None
    if request.method == "POST":
        try:
            manager = agent_ref(org, request.POST.get("reports_to", ""), "reports_to")
            agent = agent_create(
                actor=human_actor(request),
                org=org,
                slug=request.POST.get("slug", ""),
                name=request.POST.get("name", ""),
                archetype=request.POST.get("archetype") or "other",
                runner=request.POST.get("runner") or Runner.CLAUDE_CODE,
                model=request.POST.get("model", ""),
                working_dir=request.POST.get("working_dir", ""),
                reports_to=manager,
            )
        except MesaError as exc:
            error = exc
        else:
            return HttpResponseRedirect(reverse("agents:detail", args=[agent.slug]))
    states = agent_states(org)
    open_counts = dict(
        Issue.objects.filter(org=org, status__in=OPEN_STATUSES, assignee__isnull=False, archived_at__isnull=True)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    for row in states:
        row["open_issues"] = open_counts.get(row["agent"].pk, 0)
    return render(
        request,
        "agents/list.html",
        {
            "states": states,
            # Archived = terminated (agents.services.agent_archive): listed apart, to restore.
            "archived": list(Agent.objects.filter(org=org, status=AgentStatus.TERMINATED).order_by("name")),
            "error": error,
            "values": request.POST if error else {},
            "archetypes": archetype_list(org),
            "runners": Runner.choices,
        },
        status=error.status if error else 200,
    )


@require_GET
def org_chart(request: HtmxHttpRequest) -> HttpResponse:
    """The reporting tree, roots first (one query)."""
    org = require_org(request)
    agents = list(Agent.objects.filter(org=org).exclude(status=AgentStatus.TERMINATED).order_by("name"))
    children: dict[int | None, list[Agent]] = {}
    ids = {a.pk for a in agents}
    for agent in agents:
        parent = agent.reports_to_id if agent.reports_to_id in ids else None
        children.setdefault(parent, []).append(agent)

    def build(parent: int | None, seen: frozenset[int]) -> list[dict[str, Any]]:
        return [
            {"agent": a, "children": build(a.pk, seen | {a.pk}) if a.pk not in seen else []}
            for a in children.get(parent, [])
        ]

    return render(request, "agents/chart.html", {"tree": build(None, frozenset())})


def _agent_context(request: HtmxHttpRequest, agent: Agent) -> dict[str, Any]:
    org = agent.org
    return {
        "agent": agent,
        "others": [
            a for a in Agent.objects.filter(org=org).only("id", "slug", "name").order_by("name") if a.pk != agent.pk
        ],
        "archetypes": archetype_list(org),
        "runners": Runner.choices,
        "terminals": Terminal.choices,
        "sandboxes": Sandbox.choices,
        "egresses": Egress.choices,
        "credential_sets": CredentialSet.choices,
        "ship_modes": [("", "Org default"), *ShipMode.choices],
    }


@require_GET
def detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    org = require_org(request)
    agent = _get_agent(org, slug)
    today = agent_usage_today(agent)
    days = usage_by_day(org, days=14, agent=agent)
    ctx = _agent_context(request, agent)
    ctx.update(
        {
            "today": today,
            "over_budget": bool(over_budget_ids([agent], {agent.pk: today})),
            "cost_series": [(d, u.cost_usd) for d, u in days],
            "token_series": [(d, u.tokens) for d, u in days],
            "env_masked": env_masked(agent.env),
            "versions": list(AgentVersion.objects.filter(agent=agent).order_by("-number")[:30]),
            "runs": list(
                Run.objects.filter(agent=agent)
                .select_related("issue")
                .defer("prompt", "stdout", "diff")
                .order_by("-id")[:20]
            ),
            "inbox": list(
                Issue.objects.filter(assignee=agent, status__in=OPEN_STATUSES, archived_at__isnull=True).order_by(
                    "-priority", "created_at"
                )[:50]
            ),
            "approvals": list(
                Approval.objects.filter(Q(reviewer=agent) | Q(subject_agent=agent), status=ApprovalStatus.PENDING)[:20]
            ),
            "reports": list(Agent.objects.filter(reports_to=agent).only("slug", "name", "status")),
            # Pausing asks what to do with it (stop it or let it finish) only when there is one.
            "active_run": Run.objects.filter(agent=agent, status__in=ACTIVE_RUN_STATUSES).order_by("-id").first(),
        }
    )
    if request.htmx and request.htmx.target == "agent-runs":
        return render(request, "agents/partials/runs.html", ctx)
    return render(request, "agents/agent.html", ctx)


def _form_changes(request: HtmxHttpRequest, agent: Agent) -> dict[str, Any]:
    post = request.POST
    changes: dict[str, Any] = {}
    for field in FORM_FIELDS:
        if field in {"heartbeat_enabled", "codex_mcp"}:
            changes[field] = post.get(field) == "on"
            continue
        if field == "credential_mounts":  # checkboxes: none checked sends nothing, so the form says it showed them
            if "credential_mounts_shown" in post:
                changes[field] = post.getlist(field)
            continue
        if field not in post:
            continue
        value: Any = post[field]
        if field in {"reports_to", "review_agent"}:
            value = agent_ref(agent.org, value, field)
        elif field == "disallowed_tools":
            value = [t.strip() for t in value.replace("\n", ",").split(",") if t.strip()]
        changes[field] = value
    return changes


@require_POST
def edit(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Save the configuration form; every effective change becomes a new version."""
    org = require_org(request)
    agent = _get_agent(org, slug)
    error: MesaError | None = None
    try:
        agent_update(
            actor=human_actor(request), agent=agent, note="edited in the dashboard", **_form_changes(request, agent)
        )
    except MesaError as exc:
        error = exc
        agent.refresh_from_db()
    url = reverse("agents:detail", args=[agent.slug])
    if not request.htmx:
        return fail(request, error, back=url) if error else HttpResponseRedirect(url)
    ctx = _agent_context(request, agent)
    ctx.update({"error": error, "error_field": error.extra.get("field") if error else None, "saved": error is None})
    # The page's header line and version table follow the save (swapped out of band).
    ctx["versions"] = list(AgentVersion.objects.filter(agent=agent).order_by("-number")[:30])
    return render(request, "agents/partials/config_form.html", ctx, status=error.status if error else 200)


@require_POST
def action(request: HtmxHttpRequest, slug: str, verb: str) -> HttpResponse:
    """pause / resume / archive / restore / wake / rollback, then back to the agent page."""

    org = require_org(request)
    agent = _get_agent(org, slug)
    actor = human_actor(request)
    url = reverse("agents:detail", args=[agent.slug])
    try:
        if verb == "pause":
            stop = request.POST.get("stop_current") == "1"
            agent_pause_runs(actor=actor, agent=agent, stop_current=stop)
            messages.success(request, f"{agent.name} is paused" + (" and its runs are being stopped." if stop else "."))
        elif verb == "resume":
            agent_resume(actor=actor, agent=agent)
            messages.success(request, f"{agent.name} is active again.")
        elif verb == "archive":
            agent_archive(actor=actor, agent=agent)
            messages.success(request, f"{agent.name} is archived: never woken, not offered. Restore it here.")
        elif verb == "restore":
            agent_restore(actor=actor, agent=agent)
            messages.success(request, f"{agent.name} is back, paused: resume it to let it work.")
        elif verb == "rollback":
            version = request.POST.get("version", "")
            number = whole_number(version, minimum=1)
            if number is None:
                raise InvalidInput("Pick a version to roll back to.", field="version")
            agent_rollback(actor=actor, agent=agent, version=number)
            messages.success(request, f"{agent.name} is back to the configuration of v{version}.")
        elif verb == "wake":
            key = request.POST.get("issue", "")
            issue = Issue.objects.filter(org=org, key=key.upper()).first() if key else None
            result = run_enqueue(agent=agent, issue=issue, reason=f"woken by {actor}")
            note = "queued" if result.created else f"already {result.run.status}"
            messages.success(request, f"Run #{result.run.pk} {note}.")
        else:
            raise Http404("Unknown action.")
    except MesaError as exc:
        return fail(request, exc, back=url)
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)

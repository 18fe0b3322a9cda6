from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from agents.models import Agent
from issues.models import Issue
from orgs.selectors import org_default


def home(request: HttpRequest) -> HttpResponse:
    """A plain overview of the default org: its agents and its issues."""
    org = org_default()
    agents = issues = None
    if org is not None:
        agents = Agent.objects.filter(org=org).select_related("reports_to").order_by("name")
        issues = Issue.objects.filter(org=org).select_related("assignee").order_by("-updated_at")[:200]
    return render(request, "orgs/home.html", {"org": org, "agents": agents, "issues": issues})

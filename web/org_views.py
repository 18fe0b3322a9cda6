"""The New org page: an org from a template, with its prefix and repository, made in the browser.

It calls the one org-creation path there is (``web.bootstrap.org_bootstrap``, as ``manage.py
bootstrap`` does) with ``new_only`` so an existing slug or a used prefix is an error, not a merge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.http import HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods

from agents.models import Runner
from orgs.errors import MesaError
from web.access import SESSION_ORG_KEY, HtmxHttpRequest, human_actor, may_create_org
from web.bootstrap import default_repo_path, org_bootstrap
from web.org_templates import template_list

REPO_MODES = ("create", "existing")
NOT_OPERATOR = (
    "Creating an org is the instance operator's: a superuser, or the person at the machine in local mode. "
    "Ask your operator to create it and add you as a member."
)


@require_http_methods(["GET", "POST"])
def org_new(request: HtmxHttpRequest) -> HttpResponse:
    """GET: the form. POST: create the org, switch to it, land on its dashboard; errors re-render inline."""
    if not may_create_org(request):
        return HttpResponseForbidden(NOT_OPERATOR, content_type="text/plain; charset=utf-8")
    error: MesaError | None = None
    values: dict[str, Any] = {"template": "startup", "repo_mode": "create", "runner": Runner.CLAUDE_CODE}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in ("name", "slug", "issue_prefix", "template", "repo")}
        values["repo_mode"] = request.POST.get("repo_mode", "create")
        values["runner"] = request.POST.get("runner", Runner.CLAUDE_CODE)
        slug = slugify(values["slug"] or values["name"])
        existing = values["repo_mode"] == "existing"
        try:
            result = org_bootstrap(
                actor=human_actor(request),
                template=values["template"],
                org_slug=slug,
                org_name=values["name"],
                prefix=values["issue_prefix"],
                runner=values["runner"],
                repo=values["repo"] if existing else default_repo_path(slug or "org"),
                new_only=True,
                existing_repo=existing,
            )
        except MesaError as exc:
            error = exc
        else:
            request.session[SESSION_ORG_KEY] = result.org.slug
            return HttpResponseRedirect(reverse("web:dashboard"))
    field = error.extra.get("field") if error else None
    if error is not None and field is None and error.code == "not_found":
        field = "template"  # template_get's NotFound names no field
    ctx = {
        "templates": template_list(),
        "values": values,
        "error": error,
        "error_field": field,
        "runners": Runner.choices,
        "repos_dir": str(Path(default_repo_path("org")).parent / "<slug>"),
    }
    return render(request, "web/org_new.html", ctx, status=error.status if error else 200)

"""Settings → Export / import: the org's files as a zip download, and an import form for the operator."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from orgs.errors import Forbidden, InvalidInput, MesaError
from orgs.models import OrgRole
from transfer.services import bundle_unzip, bundle_zip, org_export, org_import
from web.access import HtmxHttpRequest, fail, human_actor, require_org, role

MAX_UPLOAD = 50 * 1024 * 1024


@require_GET
def org_export_download(request: HtmxHttpRequest) -> HttpResponse:
    """The current org as a zip of the files ``manage.py org export`` writes (no secrets, only their names)."""
    org = require_org(request)
    if role(request) != OrgRole.OWNER:
        return fail(
            request, Forbidden("Only an owner of this org exports it.", code="not_owner"), back=reverse("web:settings")
        )
    response = HttpResponse(bundle_zip(org_export(org=org)), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="mesa-{org.slug}.zip"'
    return response


@require_POST
def org_import_upload(request: HtmxHttpRequest) -> HttpResponse:
    """Import a zip made by the export (twice changes nothing); "dry run" shows the changes and keeps none."""
    require_org(request)
    actor = human_actor(request)
    error: MesaError | None = None
    result = None
    try:
        # Agents may carry host sandboxes and working dirs: only the instance operator may set those.
        if not actor.operator:
            raise Forbidden("Only the instance operator imports an org.", code="operator_only")
        upload = request.FILES.get("bundle")
        if upload is None:
            raise InvalidInput("Choose the zip file an export made.", field="bundle")
        if upload.size and upload.size > MAX_UPLOAD:
            raise InvalidInput("That file is larger than 50 MB.", field="bundle")
        result = org_import(
            actor=actor,
            bundle=bundle_unzip(upload.read()),
            as_slug=request.POST.get("as_slug", "").strip(),
            dry_run=bool(request.POST.get("dry_run")),
        )
    except MesaError as exc:
        error = exc
    return render(
        request, "web/org_import.html", {"error": error, "result": result}, status=error.status if error else 200
    )

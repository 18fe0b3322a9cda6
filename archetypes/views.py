"""HTML views for archetype patches: rolling back an approved one (from the approvals inbox)."""

from __future__ import annotations

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from archetypes.models import ArchetypePatch
from archetypes.services import archetype_patch_rollback
from orgs.errors import MesaError
from web.access import HtmxHttpRequest, back_url, fail, human_actor, require_org


@require_POST
def rollback(request: HtmxHttpRequest, patch_id: int) -> HttpResponse:
    org = require_org(request)
    patch = ArchetypePatch.objects.filter(org=org, pk=patch_id).first()
    if patch is None:
        raise Http404("No such archetype patch.")
    url = back_url(request, reverse("approvals:inbox"))
    try:
        archetype_patch_rollback(actor=human_actor(request), patch=patch)
    except MesaError as exc:
        return fail(request, exc, back=url)
    return HttpResponseRedirect(url)

"""Settings › Runners: the instance operator's switch for host runs (login mode)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from orgs.actors import Actor
from orgs.errors import MesaError
from runners.models import SchedulerState
from runners.readiness import host_runs_allowed, host_runs_source
from runners.services import host_runs_set
from web.access import HtmxHttpRequest, fail, human_actor, require_org


def host_runs_context(actor: Actor) -> dict[str, Any]:
    """What the Runners page shows of the switch: in force or not, who decides, who last flipped it."""
    return {
        "allowed": host_runs_allowed(),
        "source": host_runs_source(),
        "state": SchedulerState.objects.filter(pk=1).first(),
        "operator": actor.operator,
    }


@require_POST
def host_runs_toggle(request: HtmxHttpRequest) -> HttpResponse:
    """Turn host runs on (``allowed=1``) or off: the operator's alone (members get the service's 403)."""
    require_org(request)
    back = reverse("web:runners")
    allowed = request.POST.get("allowed") == "1"
    try:
        host_runs_set(actor=human_actor(request), allowed=allowed)
    except MesaError as exc:
        return fail(request, exc, back=back)
    messages.success(request, "Host runs are on." if allowed else "Host runs are off.")
    return HttpResponseRedirect(back)

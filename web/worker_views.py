"""Settings › Runners › Workers: the persistent workers (runners/workers.py), driven by the instance operator.

The operator (a superuser in login mode, the person at the machine in local mode: ``human_actor``) sees every
org's workers and can add (a pasted TOML or JSON spec), start, stop, check and remove them; these run code on
the Mesa machine, so the services refuse anyone else (403). Other members see their current org's workers
read-only; another org's worker is a 404 to them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from orgs.actors import Actor
from orgs.errors import Forbidden, InvalidInput, MesaError
from orgs.models import Org
from runners.workers import (
    worker_check,
    worker_file_add,
    worker_for,
    worker_remove,
    worker_start,
    worker_stop,
    workers_visible,
    yaml_available,
)
from web.access import HtmxHttpRequest, fail, human_actor, require_org

PARTIAL = "web/partials/workers.html"
FORMATS = ("toml", "json")


def workers_context(
    actor: Actor, org: Org, *, spec: str = "", fmt: str = "toml", error: str = "", notice: str = ""
) -> dict[str, Any]:
    """The Workers section: the rows the actor may see, whether it may drive them, the add form's state."""
    formats = FORMATS + (("yaml",) if yaml_available() else ())
    return {
        "workers": list(workers_visible(actor=actor, org=org)),
        "operator": actor.operator,
        "spec": spec,
        "spec_format": fmt if fmt in formats else "toml",
        "spec_formats": formats,
        "spec_error": error,
        "notice": notice,
    }


def _section(
    request: HtmxHttpRequest, actor: Actor, org: Org, *, status: int = 200, notice: str = "", **form: Any
) -> HttpResponse:
    if request.htmx:
        form["notice"] = notice
        return render(request, PARTIAL, {"w": workers_context(actor, org, **form)}, status=status)
    if status >= 400:  # a plain form post with a bad spec: the section alone, as a page, keeps the text
        return render(request, "web/worker_add.html", {"w": workers_context(actor, org, **form)}, status=status)
    if notice:
        messages.success(request, notice)
    return HttpResponseRedirect(reverse("web:runners") + "#workers")


def _refused(request: HtmxHttpRequest, exc: MesaError) -> HttpResponse:
    if request.htmx:
        return fail(request, exc, back=reverse("web:runners"))
    if isinstance(exc, Forbidden):
        return HttpResponseForbidden(exc.message, content_type="text/plain; charset=utf-8")
    messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("web:runners") + "#workers")


@require_POST
def worker_add_view(request: HtmxHttpRequest) -> HttpResponse:
    """Add a worker from the pasted spec; a bad spec answers the section with the error inline and the text kept."""
    org, actor = require_org(request), human_actor(request)
    text, fmt = request.POST.get("spec", ""), request.POST.get("format", "toml")
    try:
        worker = worker_file_add(actor=actor, text=text, filename=f"pasted.{fmt if fmt in FORMATS + ('yaml',) else ''}")
    except Forbidden as exc:
        return _refused(request, exc)
    except MesaError as exc:  # InvalidInput (the spec) or Conflict (a name or agent taken): the form says why
        return _section(request, actor, org, status=exc.status, spec=text, fmt=fmt, error=exc.message)
    return _section(request, actor, org, notice=f"Added worker {worker.name}: start it to keep its container warm.")


@require_POST
def worker_action(request: HtmxHttpRequest, name: str, action: str) -> HttpResponse:
    """Start, stop, check or remove one worker (the same services as ``manage.py worker``)."""
    org, actor = require_org(request), human_actor(request)
    worker = worker_for(actor=actor, org=org, name=name)  # another org's worker: 404
    try:
        if action == "start":
            worker_start(actor=actor, worker=worker)
            notice = f"Started worker {name}: {worker.last_health}."
        elif action == "stop":
            worker_stop(actor=actor, worker=worker)
            notice = f"Stopped worker {name}."
        elif action == "check":
            notice = f"Worker {name}: {worker_check(actor=actor, worker=worker)}."
        elif action == "remove":
            worker_remove(actor=actor, worker=worker)
            notice = f"Removed worker {name}."
        else:
            raise InvalidInput(f"unknown action {action!r} (start, stop, check, remove)")
    except MesaError as exc:
        return _refused(request, exc)
    return _section(request, actor, org, notice=notice)

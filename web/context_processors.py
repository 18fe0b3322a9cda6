"""Context processors: what every page (and, through ``json_script``, its scripts) gets without the view passing it."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest

from issues.models import IssueType, Priority, Status
from orgs.events import EventType


def live_events(request: HttpRequest) -> dict[str, Any]:
    """The live event types ``static/js/mesa.js`` subscribes to (``{{ mesa_event_types|json_script }}``)."""
    return {"mesa_event_types": EventType.values}


def model_choices(request: HttpRequest) -> dict[str, Any]:
    """``model_choices``: the statuses, priorities and issue types, as the models declare them.

    Templates read it (``{% for value, label in model_choices.priorities %}``) and
    base.html hands it to mesa.js with ``json_script`` (id ``mesa-choices``), so no
    template or script keeps its own copy. Each is a list of ``[value, label]``;
    priorities in menu order: none first, then urgent down to low.
    """
    return {"model_choices": _model_choices()}


@cache
def _model_choices() -> dict[str, list[list[Any]]]:
    # Built once: the choices are fixed for the life of the process.
    def pairs(choices: list[tuple[Any, Any]]) -> list[list[Any]]:
        return [[value, str(label)] for value, label in choices]

    return {
        "statuses": pairs(Status.choices),
        "priorities": pairs(sorted(Priority.choices, key=lambda c: (c[0] != Priority.NONE, -c[0]))),
        "types": pairs(IssueType.choices),
    }

"""Template context for every page that the browser's scripts read (through ``json_script``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from orgs.events import EventType


def live_events(request: HttpRequest) -> dict[str, Any]:
    """The live event types ``static/js/mesa.js`` subscribes to (``{{ mesa_event_types|json_script }}``)."""
    return {"mesa_event_types": EventType.values}

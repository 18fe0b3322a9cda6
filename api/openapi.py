"""Pieces shared by the planning/knowledge API views: the bearer scheme, parameters, filters.

Importing this module registers the bearer-key authentication extension with
drf-spectacular (the views import it, so the schema always declares it). The
error shape lives in ``api.errors`` (``error_responses``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from api.fields import ORIGINAL_MESA_ALIASES
from orgs.errors import InvalidInput

# Largest id a database row can have (integer body fields are bounded by it).
MAX_ID = 2**63 - 1

# Mutations with a JSON body can also fail on the body itself.
BODY_ERRORS = (400, 413, 415)


def id_parameter(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description=f"The {what}'s id."
    )


def text_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.PATH, description=description)


def status_parameter(allowed: list[str]) -> OpenApiParameter:
    return OpenApiParameter(
        "status", OpenApiTypes.STR, description=f"Comma-separated statuses to keep: {', '.join(allowed)}."
    )


def status_filter(request: Request, allowed: list[str]) -> list[str]:
    """``?status=a,b`` (or repeated) checked against ``allowed``; [] = no filter."""
    wanted: list[str] = []
    for raw in request.query_params.getlist("status"):
        for part in (p.strip() for p in raw.split(",")):
            if part and part not in allowed:
                raise InvalidInput(f"Unknown status {part!r}; use any of {', '.join(allowed)}.", field="status")
            if part:
                wanted.append(part)
    return wanted


class BearerKeyScheme(OpenApiAuthenticationExtension):
    """Declares ``Authorization: Bearer <key>`` (run, agent or board key) in the schema."""

    target_class = "api.auth.BearerKeyAuthentication"
    name = "bearerKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A Mesa API key: `mesa_run_…` (one run), `mesa_agent_…` or `mesa_board_…`.",
        }


class StrictInputSchema(OpenApiSerializerExtension):
    """Input serializers refuse unknown keys (``api.fields.StrictInput``) but accept their aliases; the schema
    says so (each alias is a deprecated copy of its field)."""

    target_class = "api.fields.StrictInput"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        properties = schema.get("properties", {})
        cls = self.target if isinstance(self.target, type) else type(self.target)
        for alias, name in ORIGINAL_MESA_ALIASES.get(cls.__name__, {}).items():
            if name in properties:
                properties[alias] = {
                    **properties[name],
                    "deprecated": True,
                    "description": f"Alias of `{name}` (the original Mesa's name); send one of them.",
                }
        return schema

"""Bearer-key authentication for the agent API."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from agents.keys import key_lookup
from agents.models import ApiKey, KeyKind
from orgs.actors import Actor
from orgs.errors import NotAuthenticated


class BearerKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>``; sets ``request.actor`` and ``request.org``.

    A missing, unknown, expired or revoked key is a 401 with the one error shape.
    """

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, raw = header.partition(" ")
        if not header:
            raise NotAuthenticated("Send your key as 'Authorization: Bearer <key>'.", code="missing_key")
        if scheme.lower() != "bearer" or not raw.strip():
            raise NotAuthenticated("Use the 'Authorization: Bearer <key>' scheme.", code="bad_auth_header")
        key = key_lookup(raw.strip())
        if key is None:
            raise NotAuthenticated("This key is unknown, expired or revoked.", code="invalid_key")
        if key.kind == KeyKind.BOARD:
            actor = Actor.human(label=f"board key {key.prefix}…")
        else:
            assert key.agent is not None
            actor = Actor.for_agent(key.agent)
        request.actor = actor  # type: ignore[attr-defined]
        request.org = key.org  # type: ignore[attr-defined]
        request.api_key = key  # type: ignore[attr-defined]
        return (None, key)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="mesa"'

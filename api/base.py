"""The base class of every API view: bearer auth, JSON only, the actor on the request."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from api.auth import BearerKeyAuthentication
from orgs.actors import Actor
from orgs.errors import Forbidden
from orgs.models import Org

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class MesaAPIView(APIView):
    authentication_classes = [BearerKeyAuthentication]
    permission_classes: list[type] = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # DRF silently treats a body without Content-Type as empty; say so instead.
        if request.method in _BODY_METHODS and not request.META.get("CONTENT_TYPE"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > 0:
                raise exceptions.UnsupportedMediaType("")

    @staticmethod
    def actor(request: Request) -> Actor:
        return request.actor  # type: ignore[attr-defined]

    @staticmethod
    def org(request: Request) -> Org:
        return request.org  # type: ignore[attr-defined]

    @staticmethod
    def input(request: Request, serializer: type[serializers.Serializer[Any]], *, partial: bool = False) -> Any:
        """Validate the JSON body with ``serializer``; a 400 naming the field otherwise."""
        s = serializer(data=request.data, partial=partial)
        s.is_valid(raise_exception=True)
        return s.validated_data

    @staticmethod
    def require_board(request: Request, what: str) -> None:
        """Refuse (403) unless the caller holds a board key."""
        actor: Actor = request.actor  # type: ignore[attr-defined]
        if actor.agent is not None or not actor.board:
            raise Forbidden(f"Only board keys may {what}.", code="board_only")

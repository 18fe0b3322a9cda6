"""The base class of every API view: bearer auth, JSON only, the actor on the request."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.views import APIView

from api.auth import BearerKeyAuthentication
from orgs.actors import Actor
from orgs.models import Org


class MesaAPIView(APIView):
    authentication_classes = [BearerKeyAuthentication]
    permission_classes: list[type] = []

    @staticmethod
    def actor(request: Request) -> Actor:
        return request.actor  # type: ignore[attr-defined, no-any-return]

    @staticmethod
    def org(request: Request) -> Org:
        return request.org  # type: ignore[attr-defined, no-any-return]

"""Reads of orgs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from orgs.errors import NotFound
from orgs.models import Membership, Org, OrgRole


def org_default() -> Org | None:
    """The default org (the first one created), or None on an empty database."""
    return Org.objects.filter(is_default=True).first() or Org.objects.order_by("id").first()


def org_get(slug: str) -> Org:
    org = Org.objects.filter(slug=slug).first()
    if org is None:
        raise NotFound(f"There is no org {slug!r}.")
    return org


def orgs_visible(user: Any) -> QuerySet[Org]:
    """The orgs a logged-in user may see: all for the operator (superuser), else those they are a member of."""
    if getattr(user, "is_superuser", False):
        return Org.objects.all()
    if user is None or not getattr(user, "is_authenticated", False):
        return Org.objects.none()
    return Org.objects.filter(memberships__user=user)


def org_role(user: Any, org: Org) -> str | None:
    """The user's role in ``org`` ("owner" for the operator), or None for an outsider."""
    if getattr(user, "is_superuser", False):
        return OrgRole.OWNER
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(org=org, user=user).values_list("role", flat=True).first()

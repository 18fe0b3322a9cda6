"""Reads of orgs."""

from __future__ import annotations

from orgs.errors import NotFound
from orgs.models import Org


def org_default() -> Org | None:
    """The default org (the first one created), or None on an empty database."""
    return Org.objects.filter(is_default=True).first() or Org.objects.order_by("id").first()


def org_get(slug: str) -> Org:
    org = Org.objects.filter(slug=slug).first()
    if org is None:
        raise NotFound(f"There is no org {slug!r}.")
    return org

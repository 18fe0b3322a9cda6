"""Saved views: a person's named board / list queries (filters, grouping, ordering, display options).

A view belongs to one person in one org: a logged-in user, or "local" (the person at the machine
in trusted local mode). Agents and API keys have no views. Reads: ``issues.selectors``.
"""

from __future__ import annotations

from django.db import transaction
from django.http import QueryDict

from issues.board import FILTER_KEYS
from issues.models import SavedView
from orgs.actors import Actor
from orgs.errors import Forbidden, InvalidInput
from orgs.models import Org
from orgs.services import require_member

# What a view remembers of the board's query: the filters, then grouping, ordering and display.
VIEW_KEYS: tuple[str, ...] = (*FILTER_KEYS, "group", "order", "view", "limit")
MAX_VIEWS = 50


def view_owner(actor: Actor) -> str:
    """The ``SavedView.owner`` of ``actor``'s views; Forbidden for actors who have none (agents, keys)."""
    if actor.is_human and actor.user is not None and actor.user.pk:
        return f"user:{actor.user.pk}"
    if actor.is_human and actor.operator and actor.label == "local":
        return "local"
    raise Forbidden("Only a person signed in to the dashboard has saved views.")


def clean_view_query(query: str) -> str:
    """``query`` reduced to the board's own keys (``VIEW_KEYS``), in a stable order, empty values dropped."""
    params = QueryDict(query.lstrip("?"), mutable=True)
    out = QueryDict(mutable=True)
    for key in VIEW_KEYS:
        values = [v.strip() for v in params.getlist(key) if v.strip()]
        if values:
            out.setlist(key, values)
    return out.urlencode()


@transaction.atomic
def saved_view_save(*, actor: Actor, org: Org, name: str, query: str) -> SavedView:
    """Save ``query`` as ``actor``'s view ``name`` in ``org``; a view of the same name is replaced."""
    require_member(actor, org.pk)
    owner = view_owner(actor)
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("A saved view needs a name.", field="name")
    if len(name) > 60:
        raise InvalidInput("View names are at most 60 characters.", field="name")
    query = clean_view_query(query or "")
    if len(query) > 2000:
        raise InvalidInput("That view has too many filters to save.", field="query")
    updated = SavedView.objects.filter(org=org, owner=owner, name=name).update(query=query)
    if updated:
        return SavedView.objects.get(org=org, owner=owner, name=name)
    if SavedView.objects.filter(org=org, owner=owner).count() >= MAX_VIEWS:
        raise InvalidInput(f"You have {MAX_VIEWS} saved views here; delete one first.", field="name")
    user = actor.user if owner.startswith("user:") else None
    return SavedView.objects.create(org=org, user=user, owner=owner, name=name, query=query)


@transaction.atomic
def saved_view_delete(*, actor: Actor, view: SavedView) -> None:
    """Delete ``view`` (got through ``saved_view_get_for``, so it is ``actor``'s own)."""
    if view.owner != view_owner(actor):
        raise Forbidden("That saved view is someone else's.")
    SavedView.objects.filter(pk=view.pk, owner=view.owner).delete()

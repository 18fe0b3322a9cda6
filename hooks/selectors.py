"""Reads of the hooks app, always scoped to one org."""

from __future__ import annotations

from django.db.models import QuerySet

from hooks.models import Delivery, Hook, LogEntry, Routine, Rule
from orgs.errors import NotFound
from orgs.models import Org


def hook_for_delivery(*, org_slug: str, source: str, public_id: str) -> Hook:
    """The enabled hook a provider posts to; NotFound for anything else (no hint which part was wrong)."""
    hook = (
        Hook.objects.select_related("org")
        .filter(org__slug=org_slug, source=source, public_id=public_id, enabled=True)
        .first()
    )
    if hook is None:
        raise NotFound("No such hook.")
    return hook


def hook_get_for(org: Org, pk: int) -> Hook:
    hook = Hook.objects.filter(org=org, pk=pk).first()
    if hook is None:
        raise NotFound("No such hook in this org.")
    return hook


def hooks_for(org: Org) -> QuerySet[Hook]:
    return Hook.objects.filter(org=org).order_by("id")


def rules_for(org: Org) -> QuerySet[Rule]:
    return Rule.objects.filter(org=org).select_related("assignee").order_by("position", "id")


def delivery_get_for(org: Org, pk: int) -> Delivery:
    delivery = Delivery.objects.filter(org=org, pk=pk).select_related("hook", "org").first()
    if delivery is None:
        raise NotFound("No such delivery in this org.")
    return delivery


def deliveries_for(org: Org, limit: int = 50) -> list[Delivery]:
    return list(Delivery.objects.filter(org=org).select_related("hook").order_by("-id")[:limit])


def log_for(org: Org) -> QuerySet[LogEntry]:
    return LogEntry.objects.filter(org=org).select_related("hook", "rule", "issue", "agent").order_by("-id")


def routines_for(org: Org) -> QuerySet[Routine]:
    return Routine.objects.filter(org=org).select_related("agent", "last_issue").order_by("id")


def routine_get_for(org: Org, pk: int) -> Routine:
    routine = Routine.objects.filter(org=org, pk=pk).select_related("org", "agent", "last_issue").first()
    if routine is None:
        raise NotFound("No such routine in this org.")
    return routine

"""Writes for orgs and the audit trail."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils.text import slugify

from orgs.actors import Actor
from orgs.errors import Conflict, Forbidden, InvalidInput, NotFound
from orgs.events import EventType, event_publish
from orgs.inserts import insert
from orgs.models import DEFAULT_FEATURES, Activity, Membership, Org, OrgRole

PREFIX_RE = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")


def activity_record(
    *,
    org: Org,
    actor: Actor,
    verb: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    details: dict[str, Any] | None = None,
    publish: bool = True,
) -> Activity:
    """Write one audit row (and its live ``activity`` event) for a mutation."""
    if obj is not None:
        object_type = object_type or obj._meta.model_name or ""
        object_id = object_id or str(getattr(obj, "key", None) or obj.pk)
        object_repr = object_repr or str(obj)[:300]
    user = actor.user if actor.user is not None and actor.user.pk else None
    row = insert(
        Activity(
            org=org,
            actor_kind=actor.kind,
            actor_agent=actor.agent,
            actor_user=user,
            actor_label=str(actor)[:100],
            verb=verb,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr[:300],
            details=details or {},
        )
    )
    if publish:
        event_publish(
            org=org,
            type=EventType.ACTIVITY,
            data={
                "id": row.pk,
                "actor": row.actor_label,
                "verb": verb,
                "object_type": object_type,
                "object_id": object_id,
                "object_repr": row.object_repr,
            },
        )
    return row


def require_member(actor: Actor, org_id: int) -> None:
    """Forbidden when ``actor`` is an agent of another org; every write into an org checks this."""
    if actor.agent is not None and actor.agent.org_id != org_id:
        raise Forbidden("That belongs to another org.")


def normalise_prefix(prefix: str) -> str:
    value = prefix.strip().upper()
    if not PREFIX_RE.match(value):
        raise InvalidInput(
            "The issue prefix must be 1-10 letters or digits and start with a letter (e.g. MESA).",
            field="issue_prefix",
        )
    return value


@transaction.atomic
def org_create(*, actor: Actor, name: str, slug: str = "", issue_prefix: str = "MESA") -> Org:
    name = name.strip()
    if not name:
        raise InvalidInput("An org needs a name.", field="name")
    slug = slugify(slug or name)
    if not slug:
        raise InvalidInput("The org slug must contain letters or digits.", field="slug")
    prefix = normalise_prefix(issue_prefix)
    is_default = not Org.objects.exists()
    try:
        with transaction.atomic():
            org = Org.objects.create(name=name, slug=slug, issue_prefix=prefix, is_default=is_default)
    except IntegrityError as exc:
        raise Conflict(f"An org with the slug {slug!r} already exists.", code="duplicate") from exc
    activity_record(org=org, actor=actor, verb="created", obj=org)
    return org


SHIP_MODES = ("merge", "pull_request", "none")
FORGES = ("github", "gitlab")


def _ship_settings(ship: dict[str, str]) -> dict[str, str]:
    out = {k: str(v).strip() for k, v in ship.items() if k in ("mode", "forge", "api_url", "repo", "remote")}
    out = {k: v for k, v in out.items() if v}
    if out.get("mode", "merge") not in SHIP_MODES:
        raise InvalidInput(f"Ship mode is one of {', '.join(SHIP_MODES)}.", field="ship_mode")
    if out.get("forge", "github") not in FORGES:
        raise InvalidInput(f"Forge is one of {', '.join(FORGES)}.", field="ship_forge")
    if out.get("api_url") and not out["api_url"].startswith(("http://", "https://")):
        raise InvalidInput("The forge API URL starts with https:// (or http://).", field="ship_api_url")
    if out.get("mode") == "pull_request" and "/" not in out.get("repo", ""):
        raise InvalidInput("Pull requests need the repository as owner/name.", field="ship_repo")
    return out


@transaction.atomic
def org_update(
    *,
    actor: Actor,
    org: Org,
    name: str | None = None,
    issue_prefix: str | None = None,
    features: dict[str, bool] | None = None,
    ship: dict[str, str] | None = None,
) -> Org:
    """Rename, change the prefix for *new* issues, flip feature flags, or set how done work ships.

    ``ship``: ``mode`` (merge / pull_request / none), ``forge`` (github / gitlab), ``api_url``,
    ``repo`` (owner/name), ``remote`` (git remote to push to); see ``runners.shipping``.
    """
    changes: dict[str, Any] = {}
    if name is not None and name.strip() and name.strip() != org.name:
        changes["name"] = [org.name, name.strip()]
        org.name = name.strip()
    if issue_prefix is not None:
        prefix = normalise_prefix(issue_prefix)
        if prefix != org.issue_prefix:
            changes["issue_prefix"] = [org.issue_prefix, prefix]
            org.issue_prefix = prefix
    if features:
        current = dict(org.settings.get("features", {}))
        for key, value in features.items():
            # Compare with the effective value (defaults included) so re-stating a default is no change.
            effective = bool(current.get(key, DEFAULT_FEATURES.get(key, False)))
            if effective != bool(value):
                changes[f"features.{key}"] = [effective, bool(value)]
                current[key] = bool(value)
        org.settings = {**org.settings, "features": current}
    if ship is not None:
        wanted = _ship_settings(ship)
        current_ship = dict(org.settings.get("ship") or {})
        if wanted != current_ship:
            changes["ship"] = [current_ship, wanted]
            org.settings = {**org.settings, "ship": wanted}
    if changes:
        # Never write issue_seq from this (possibly stale) instance: that would hand out used numbers again.
        org.save(update_fields=["name", "issue_prefix", "settings", "updated_at"])
        activity_record(org=org, actor=actor, verb="updated", obj=org, details={"changes": changes})
    return org


def _owners_left(org: Org, *, without: Any) -> int:
    return Membership.objects.filter(org=org, role=OrgRole.OWNER).exclude(user=without).count()


@transaction.atomic
def membership_set(*, actor: Actor, org: Org, user: Any, role: str) -> Membership:
    """Add ``user`` to ``org`` with ``role``, or change their role. The last owner cannot step down."""
    if role not in OrgRole.values:
        raise InvalidInput(f"Unknown role {role!r}: use owner, member or viewer.", field="role")
    row = Membership.objects.select_for_update().filter(org=org, user=user).first()
    if row is not None and row.role == OrgRole.OWNER and role != OrgRole.OWNER and not _owners_left(org, without=user):
        raise Conflict("An org keeps at least one owner.", code="last_owner")
    if row is None:
        row = Membership.objects.create(org=org, user=user, role=role)
    else:
        Membership.objects.filter(pk=row.pk).update(role=role)
        row.role = role
    activity_record(org=org, actor=actor, verb="membership.set", obj=row, object_repr=str(user), details={"role": role})
    return row


@transaction.atomic
def membership_remove(*, actor: Actor, org: Org, user: Any) -> None:
    """Take ``user`` out of ``org``. The last owner stays."""
    row = Membership.objects.select_for_update().filter(org=org, user=user).first()
    if row is None:
        raise NotFound(f"{user} is not a member of {org.name}.")
    if row.role == OrgRole.OWNER and not _owners_left(org, without=user):
        raise Conflict("An org keeps at least one owner.", code="last_owner")
    row.delete()
    activity_record(org=org, actor=actor, verb="membership.remove", object_type="membership", object_repr=str(user))

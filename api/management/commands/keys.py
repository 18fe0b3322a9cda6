"""The operator's view of keys: ``manage.py keys list [--org SLUG] [--all]``, ``manage.py keys revoke ID_OR_PREFIX``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents.keys import key_revoke
from agents.models import ApiKey
from agents.selectors import keys_listed
from orgs.actors import Actor
from orgs.models import Org


class Command(BaseCommand):
    help = "List board and agent keys (never their secrets) or revoke one by id or prefix."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="id, org, kind, agent, name, masked prefix, created, last use")
        listing.add_argument("--org", default="", help="only this org (slug)")
        listing.add_argument("--all", action="store_true", help="include revoked keys")
        revoke = sub.add_parser("revoke", help="revoke a key by its id or its full visible prefix")
        revoke.add_argument("key")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "list":
            self._list(opts["org"], include_revoked=opts["all"])
        else:
            self._revoke(opts["key"])

    def _list(self, slug: str, *, include_revoked: bool) -> None:
        org = None
        if slug:
            org = Org.objects.filter(slug=slug).first()
            if org is None:
                raise CommandError(f"There is no org {slug!r}.")
        for key in keys_listed(org, include_revoked=include_revoked):
            used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never"
            state = " revoked" if key.revoked_at else ""
            agent = key.agent.slug if key.agent else "-"
            self.stdout.write(
                f"{key.pk}\t{key.org.slug}\t{key.kind}\t{agent}\t{key.name or '-'}\t{key.prefix}…\t"
                f"created {key.created_at.isoformat(timespec='seconds')}\tlast use {used}{state}"
            )

    def _revoke(self, ref: str) -> None:
        rows = ApiKey.objects.select_related("org")
        matches = list(rows.filter(pk=int(ref)) if ref.isdigit() else rows.filter(prefix=ref.rstrip("…")))
        if len(matches) != 1:
            raise CommandError(f"No single key matches {ref!r}: use the id from `keys list`.")
        key = matches[0]
        if key.revoked_at is not None:
            raise CommandError(f"{key} is already revoked.")
        key_revoke(actor=Actor.system("manage.py keys"), key=key)
        self.stdout.write(f"Revoked {key} of {key.org.slug}.")

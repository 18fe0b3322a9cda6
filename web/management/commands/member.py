"""``manage.py member ORG USERNAME --role owner|member|viewer`` (or ``--remove``): org membership for login mode."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgs.actors import Actor
from orgs.errors import MesaError
from orgs.models import OrgRole
from orgs.selectors import org_get
from orgs.services import membership_remove, membership_set


class Command(BaseCommand):
    help = "Add a user to an org with a role, change the role, or remove them (--remove)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("org", help="org slug")
        parser.add_argument("username")
        parser.add_argument("--role", choices=OrgRole.values, default=OrgRole.MEMBER)
        parser.add_argument("--remove", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        actor = Actor.system("manage.py member")
        try:
            org = org_get(opts["org"])
            user = get_user_model().objects.filter(username=opts["username"]).first()
            if user is None:
                raise CommandError(f"There is no user {opts['username']!r}.")
            if opts["remove"]:
                membership_remove(actor=actor, org=org, user=user)
                self.stdout.write(f"{user.username} removed from {org.slug}.")
            else:
                membership_set(actor=actor, org=org, user=user, role=opts["role"])
                self.stdout.write(f"{user.username} is {opts['role']} of {org.slug}.")
        except MesaError as exc:
            raise CommandError(exc.message) from exc

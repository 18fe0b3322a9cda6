from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents.keys import key_create, parse_duration
from agents.models import KeyKind
from orgs.actors import Actor
from orgs.errors import MesaError
from orgs.models import Org
from orgs.selectors import org_default


class Command(BaseCommand):
    help = "Print a new board key (full rights in one org) for a human or a script."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", default="", help="org slug (default: the default org)")
        parser.add_argument("--expires", default="", help="lifetime such as 30d or 12h (default: never)")
        parser.add_argument("--name", default="board key", help="a note to recognise the key by")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Org.objects.filter(slug=options["org"]).first() if options["org"] else org_default()
        if org is None:
            raise CommandError("No such org. Run `python manage.py bootstrap` first or pass --org.")
        try:
            expires = parse_duration(options["expires"]) if options["expires"] else None
            _, raw = key_create(
                actor=Actor.system("cli"), org=org, kind=KeyKind.BOARD, expires_in=expires, name=options["name"]
            )
        except MesaError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(raw)

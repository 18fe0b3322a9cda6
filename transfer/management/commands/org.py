"""``manage.py org export --org SLUG DIR`` and ``manage.py org import DIR [--as SLUG] [--dry-run]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgs.actors import Actor
from orgs.errors import MesaError
from orgs.models import Org
from transfer.services import bundle_read, bundle_write, org_export, org_import


class Command(BaseCommand):
    help = "Export an org to readable files, or import such files (secrets are never exported)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Write the org's files into DIR.")
        export.add_argument("--org", required=True, help="The org's slug.")
        export.add_argument("dir")
        imp = sub.add_parser("import", help="Create or update an org from DIR (twice changes nothing).")
        imp.add_argument("dir")
        imp.add_argument("--as", dest="as_slug", default="", help="Import under this slug instead.")
        imp.add_argument("--dry-run", action="store_true", help="Print what would change; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["dir"])
        try:
            if options["action"] == "export":
                org = Org.objects.filter(slug=options["org"]).first()
                if org is None:
                    raise CommandError(f"No org with the slug {options['org']!r}.")
                bundle = org_export(org=org)
                bundle_write(bundle, directory)
                self.stdout.write(f"Exported {org.slug}: {len(bundle)} files in {directory}.")
                return
            result = org_import(
                actor=Actor.system("manage.py org import"),
                bundle=bundle_read(directory),
                as_slug=options["as_slug"],
                dry_run=options["dry_run"],
            )
        except MesaError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Would change" if result.dry_run else "Changed"
        for line in result.changes:
            self.stdout.write(f"  {line}")
        self.stdout.write(f"{verb} {len(result.changes)} thing(s) in {result.slug}.")
        if result.dry_run:
            self.stdout.write("Dry run: nothing was written.")
        for line in result.to_fill_in:
            self.stdout.write(f"Fill in: {line}")

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents.models import Runner
from orgs.actors import Actor
from orgs.errors import MesaError
from orgs.models import Org
from web.bootstrap import default_repo_path, org_bootstrap
from web.org_templates import template_list


class Command(BaseCommand):
    help = "Create an org from a template (idempotent). --list shows the templates."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--template", default="startup", help="template name (see --list)")
        parser.add_argument("--org", default="mesa", help="org slug (created when missing)")
        parser.add_argument("--name", default="", help="org name for a new org")
        parser.add_argument("--prefix", default="MESA", help="issue key prefix for a new org")
        parser.add_argument("--runner", default=Runner.CLAUDE_CODE, choices=Runner.values)
        parser.add_argument("--model", default="", help="model for every new agent")
        parser.add_argument(
            "--repo",
            default="",
            help="the org's git repository (created when missing); default: MESA_REPOS_DIR/<org>. "
            "Every run works in a worktree of it on its issue's branch; done work merges into its base branch.",
        )
        parser.add_argument(
            "--in-place", action="store_true", help="no repository: agents run in place in a private directory"
        )
        parser.add_argument("--workdir", default="", help="working directory for every new agent (instead of --repo)")
        parser.add_argument("--list", action="store_true", help="list the templates and exit")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the database already has an org")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for tpl in template_list():
                self.stdout.write(f"{tpl.slug:<12} {len(tpl.agents):>2} agents  {tpl.description}")
            return
        if options["if_empty"] and Org.objects.exists():
            self.stdout.write("An org exists already; nothing to bootstrap.")
            return
        repo = ""
        if not options["in_place"] and not options["workdir"]:
            repo = options["repo"] or default_repo_path(options["org"])
        try:
            result = org_bootstrap(
                actor=Actor.system("bootstrap"),
                template=options["template"],
                org_slug=options["org"],
                org_name=options["name"],
                prefix=options["prefix"],
                runner=options["runner"],
                model=options["model"],
                working_dir=options["workdir"],
                repo=repo,
            )
        except MesaError as exc:
            raise CommandError(exc.message) from exc
        org = result.org
        verb = "Created" if result.org_created else "Updated"
        self.stdout.write(
            f"{verb} org {org.slug} ({org.issue_prefix}) from template {options['template']}: "
            f"{len(result.agents_created)} agent(s) added"
            + (f" ({', '.join(result.agents_created)})" if result.agents_created else "")
            + f", {len(result.labels_created)} label(s) added."
        )
        if result.repo:
            self.stdout.write(
                f"Agents work in the git repository {result.repo}; done issues merge into its base branch."
            )
        self.stdout.write(
            "To log in to the dashboard from another machine, create a user: python manage.py createsuperuser"
        )

"""`python manage.py worker add FILE | ls | start NAME | stop NAME | rm NAME`: persistent workers (operator only).

See runners/workers.py for the spec file (TOML or JSON; YAML only when PyYAML is installed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgs.actors import Actor
from orgs.errors import MesaError
from runners.models import Worker
from runners.workers import (
    worker_add,
    worker_check,
    worker_file_parse,
    worker_get,
    worker_remove,
    worker_start,
    worker_stop,
    yaml_available,
)

OPERATOR = Actor.system("manage.py worker")


class Command(BaseCommand):
    help = (
        "Persistent workers: a long-lived container per agent that its runs exec into. "
        "`add FILE` reads a spec in TOML (.toml) or JSON (.json)"
        + (" or YAML (.yaml)" if yaml_available() else "; YAML only when PyYAML is installed (it is not here)")
        + ": name, org, agent, image, credential_sets, [limits] cpus/memory/pids, "
        '[env] VARIABLE = "SECRET" (a name of the agent\'s encrypted env, or "agent-slug.SECRET"). '
        "`ls` checks and shows each worker's health; `start`, `stop`, `rm` take its name."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["add", "ls", "start", "stop", "rm"])
        parser.add_argument("target", nargs="?", default="", help="FILE for add, the worker's NAME otherwise")

    def handle(self, *args: Any, **options: Any) -> None:
        action, target = options["action"], options["target"]
        if action != "ls" and not target:
            raise CommandError(f"worker {action} needs {'a FILE' if action == 'add' else 'a worker NAME'}")
        try:
            if action == "add":
                path = Path(target)
                if not path.is_file():
                    raise CommandError(f"{target}: no such file")
                worker = worker_add(actor=OPERATOR, spec=worker_file_parse(path.read_text(), filename=path.name))
                self.stdout.write(f"added worker {worker.name} for {worker.org.slug}/{worker.agent.slug}")
            elif action == "ls":
                self._ls()
            elif action == "start":
                worker = worker_start(actor=OPERATOR, worker=worker_get(target))
                self.stdout.write(f"started worker {worker.name}: {worker.container_id[:12]} {worker.last_health}")
            elif action == "stop":
                worker_stop(actor=OPERATOR, worker=worker_get(target))
                self.stdout.write(f"stopped worker {target}")
            else:
                worker_remove(actor=OPERATOR, worker=worker_get(target))
                self.stdout.write(f"removed worker {target}")
        except MesaError as exc:
            raise CommandError(exc.message) from exc

    def _ls(self) -> None:
        workers = list(Worker.objects.select_related("org", "agent"))
        if not workers:
            self.stdout.write("no workers")
            return
        self.stdout.write("NAME\tAGENT\tSTATUS\tHEALTH\tCONTAINER\tLIMITS")
        for worker in workers:
            health = worker_check(actor=OPERATOR, worker=worker)
            limits = f"cpus={worker.cpus:g} memory={worker.memory} pids={worker.pids}"
            self.stdout.write(
                f"{worker.name}\t{worker.org.slug}/{worker.agent.slug}\t{worker.status}\t{health}\t"
                f"{worker.container_id[:12] or '-'}\t{limits}"
            )

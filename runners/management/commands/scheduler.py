"""`python manage.py scheduler`: the dispatch loop as its own process (`--once`: one pass, for tests)."""

from __future__ import annotations

import logging
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from orgs.gc_tuning import gc_tune
from runners.companions import companions_start, companions_stop
from runners.parent import die_with_parent
from runners.scheduler import Scheduler


class Command(BaseCommand):
    help = "Run the scheduler: dispatch events to agents and execute their runs. SIGTERM stops it cleanly."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="recover, run everything startable until idle, then exit"
        )
        parser.add_argument("--timeout", type=float, default=120.0, help="with --once: give up after this many seconds")
        parser.add_argument(
            "--no-notifications",
            dest="notifications",
            action="store_false",
            help="do not run the notification delivery worker and the Telegram bot in this process",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        die_with_parent()
        logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(levelname)s %(message)s")
        scheduler = Scheduler()
        if options["once"]:
            scheduler.run_until_idle(timeout=options["timeout"])
            return
        previous = {sig: signal.signal(sig, scheduler.request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        companions = companions_start() if options["notifications"] else []
        gc_tune()  # a long-lived process from here on (orgs/gc_tuning.py)
        try:
            scheduler.run_forever()
        finally:
            companions_stop(companions)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("scheduler stopped; no run left running")

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.telegram_poller import poll_once, run_forever


class Command(BaseCommand):
    help = "Run the Telegram bot (long polling for every org with an enabled bot) until interrupted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one polling cycle without waiting, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            handled = poll_once(timeout=0)
            self.stdout.write(f"Handled {handled} update(s).")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write("Telegram bot polling; Ctrl-C to stop.")
        try:
            run_forever(stop)
        except KeyboardInterrupt:
            stop.set()

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.worker import run_forever, run_once


class Command(BaseCommand):
    help = "Run the notification delivery worker: map new events to deliveries, send what is due, retry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one cycle, then exit")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between idle cycles")
        parser.add_argument("--telegram", action="store_true", help="also run the Telegram bot in a thread")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            events, attempts = run_once()
            self.stdout.write(f"Read {events} event(s), made {attempts} delivery attempt(s).")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        bot = None
        if options["telegram"]:
            # python-telegram-bot is heavy: load it only when the bot is wanted.
            from notifications.telegram_poller import start_in_thread

            bot = start_in_thread()
        self.stdout.write("Notification worker running; Ctrl-C to stop.")
        try:
            run_forever(stop, interval_s=options["interval"])
        except KeyboardInterrupt:
            stop.set()
        finally:
            if bot is not None:
                bot.stop(timeout=5)

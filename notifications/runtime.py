"""The notification threads that live inside the scheduler process.

The delivery worker always runs. The Telegram bot (and the python-telegram-bot
import behind it) starts only once some org enables a Telegram channel, so an
org that never uses Telegram pays nothing for it; after that the bot re-reads
its settings every cycle, so switching it off or changing the token needs no
restart.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import connection

from notifications.models import ChannelKind, NotificationChannel
from notifications.worker import start_in_thread
from orgs.commits import CommitWatch, release_pooled_connection

log = logging.getLogger(__name__)


class NotificationThreads:
    def __init__(self, *, check_every_s: float = 5.0) -> None:
        self.check_every_s = check_every_s
        self.stopping = threading.Event()
        self.worker: Any = None
        self.bot: Any = None
        self._watch: threading.Thread | None = None

    def start(self) -> None:
        self.worker = start_in_thread()
        self._watch = threading.Thread(target=self._watch_telegram, name="mesa-telegram-watch", daemon=True)
        self._watch.start()

    def _telegram_wanted(self) -> bool:
        return NotificationChannel.objects.filter(kind=ChannelKind.TELEGRAM, enabled=True).exists()

    def _watch_telegram(self) -> None:
        # The channel table is read again only after some commit (orgs.commits), on one kept connection.
        commits = CommitWatch()
        try:
            self._watch_loop(commits)
        finally:
            connection.close()

    def _watch_loop(self, commits: CommitWatch) -> None:
        while not self.stopping.is_set() and self.bot is None:
            release_pooled_connection()
            try:
                if commits.changed() and self._telegram_wanted():
                    # python-telegram-bot is heavy: load it only once some org enables Telegram.
                    from notifications.telegram_poller import start_in_thread

                    self.bot = start_in_thread()
                    log.info("telegram bot started")
                    return
            except Exception:  # keep watching; the next check retries on a fresh connection
                log.exception("could not start the telegram bot")
                commits = CommitWatch()
                connection.close()
            self.stopping.wait(self.check_every_s)

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        for thread in (self.bot, self.worker):
            if thread is not None:
                thread.stop(timeout=timeout)

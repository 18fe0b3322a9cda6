"""Long polling for the Telegram bot (``notifications.telegram_bot`` answers each update).

Long polling is driven by ``Poller.poll_channel`` — one ``getUpdates`` cycle per
call, so tests run it deterministically with ``poll_once()``. ``run_forever`` loops
over every enabled Telegram channel, re-reading the settings each cycle, so the
bot starts and stops with the setting without a restart. The scheduler process
starts it with ``start_in_thread()``; ``python manage.py telegram`` runs it alone.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from notifications.models import ChannelKind, NotificationChannel
from notifications.services import channel_error_set, channel_ok
from notifications.telegram_bot import handle_update
from notifications.telegram_client import DEFAULT_BASE_URL, TelegramCallError, TelegramClient

log = logging.getLogger(__name__)

# -- polling ------------------------------------------------------------------------------


class Poller:
    """Holds one TelegramClient per channel (rebuilt when its token or base URL changes)."""

    def __init__(self) -> None:
        self._clients: dict[int, tuple[tuple[str, str], TelegramClient]] = {}
        # Channels whose token Telegram refused, with the credentials refused: skipped until they change.
        self._refused: dict[int, tuple[str, str]] = {}
        # Channels whose last cycle failed (network, refused token): the loop backs off for them.
        self.failed: set[int] = set()
        self._poll_errors: set[int] = set()

    @staticmethod
    def _key(channel: NotificationChannel) -> tuple[str, str]:
        return channel.secret, channel.config.get("base_url") or DEFAULT_BASE_URL

    def client_for(self, channel: NotificationChannel, *, read_timeout: float = 10.0) -> TelegramClient:
        key = self._key(channel)
        cached = self._clients.get(channel.pk)
        if cached is not None and cached[0] == key:
            return cached[1]
        if cached is not None:
            cached[1].close()
        client = TelegramClient(key[0], key[1], read_timeout=read_timeout)
        self._clients[channel.pk] = (key, client)
        return client

    def poll_channel(self, channel: NotificationChannel, *, timeout: int = 0) -> int:
        """One getUpdates cycle for one channel; returns how many updates were handled."""
        if self._refused.get(channel.pk) == self._key(channel):
            self.failed.add(channel.pk)
            return 0
        self.failed.discard(channel.pk)
        client = self.client_for(channel)
        try:
            if not channel.bot_username:
                me = client.get_me()
                channel.bot_username = me.username or ""
                NotificationChannel.objects.filter(pk=channel.pk).update(bot_username=channel.bot_username)
                channel_ok(channel)
            updates = client.get_updates(offset=channel.poll_offset, timeout=timeout)
            if channel.pk in self._poll_errors:
                # Polling works again: clear the error polling had stored (not a delivery's).
                self._poll_errors.discard(channel.pk)
                channel_ok(channel)
        except TelegramCallError as exc:
            self._poll_errors.add(channel.pk)
            channel_error_set(channel, exc.message)
            self.failed.add(channel.pk)
            if exc.unauthorized:
                self._refused[channel.pk] = self._key(channel)
            log.warning("telegram channel %s: %s", channel.pk, exc.message)
            return 0
        for update in updates:
            try:
                handle_update(channel=channel, client=client, update=update)
            except TelegramCallError as exc:
                log.warning("telegram channel %s: answering update %s failed: %s", channel.pk, update.update_id, exc)
            except Exception:  # one bad update must not block the ones after it
                log.exception("telegram channel %s: update %s failed", channel.pk, update.update_id)
            channel.poll_offset = update.update_id + 1
            NotificationChannel.objects.filter(pk=channel.pk).update(poll_offset=channel.poll_offset)
        return len(updates)

    def poll_once(self, *, timeout: int = 0, channel: NotificationChannel | None = None) -> int:
        channels = [channel] if channel is not None else list(enabled_bot_channels())
        return sum(self.poll_channel(ch, timeout=timeout) for ch in channels)

    def close(self) -> None:
        for _, client in self._clients.values():
            client.close()
        self._clients.clear()


def enabled_bot_channels() -> Any:
    return NotificationChannel.objects.filter(kind=ChannelKind.TELEGRAM, enabled=True).select_related("org")


_default_poller: Poller | None = None


def poll_once(*, timeout: int = 0, channel: NotificationChannel | None = None) -> int:
    """One polling cycle over every enabled Telegram channel (or one), on a process-wide Poller."""
    global _default_poller
    if _default_poller is None:
        _default_poller = Poller()
    return _default_poller.poll_once(timeout=timeout, channel=channel)


def reset_default_poller() -> None:
    global _default_poller
    if _default_poller is not None:
        _default_poller.close()
    _default_poller = None


def _cycle(poller: Poller, stop: threading.Event, *, long_timeout: int) -> bool:
    """One polling cycle over the enabled channels; True when the loop should wait before the next."""
    channels = list(enabled_bot_channels())
    if not channels:
        return True
    # One channel may hold a long poll; several take turns with short ones.
    timeout = long_timeout if len(channels) == 1 else 1
    for channel in channels:
        if stop.is_set():
            break
        poller.poll_channel(channel, timeout=timeout)
    return all(ch.pk in poller.failed for ch in channels)  # back off after failures instead of hammering


MAX_BACKOFF_S = 60.0
POLLER_ERROR_PREFIX = "The Telegram poller failed"


def _health(error: str) -> None:
    """Show the poller's health on the Telegram channels in Settings (best effort: the database may be down)."""
    try:
        channels = NotificationChannel.objects.filter(kind=ChannelKind.TELEGRAM, enabled=True)
        if error:
            channels.update(last_error=error[:2000], last_error_at=timezone.now())
        else:
            channels.filter(last_error__startswith=POLLER_ERROR_PREFIX).update(last_error="", last_error_at=None)
    except Exception:
        log.warning("could not record the telegram poller's health", exc_info=True)
        with contextlib.suppress(Exception):
            connection.close()


def run_forever(
    stop: threading.Event,
    *,
    idle_s: float = 5.0,
    on_cycle: Callable[[], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> None:
    """Long-poll until ``stop`` is set. Settings are re-read every cycle: enabling, disabling or
    changing the token takes effect without a restart.

    Supervised: a cycle that raises (a locked or lost database, a bug) is logged, reported to
    ``on_error`` and retried after a growing pause (``idle_s`` doubling up to ``MAX_BACKOFF_S``);
    the loop never ends for it.
    """
    poller = Poller()
    long_timeout = int(getattr(settings, "MESA_TELEGRAM_POLL_TIMEOUT_S", 25))
    failures = 0
    try:
        while not stop.is_set():
            close_old_connections()
            if on_cycle is not None:
                on_cycle()  # tells watchers a cycle saw the current settings
            try:
                wait = _cycle(poller, stop, long_timeout=long_timeout)
            except Exception as exc:
                failures += 1
                log.exception("telegram poller cycle failed (%d in a row); retrying", failures)
                if on_error is not None:
                    on_error(exc)
                with contextlib.suppress(Exception):  # a broken connection is reopened next cycle
                    connection.close()
                pause = min(MAX_BACKOFF_S, idle_s * 2 ** (failures - 1))
                _health(f"The Telegram poller failed ({type(exc).__name__}: {exc}); retrying in {pause:g} s.")
                stop.wait(pause)
                continue
            if failures:
                _health("")  # working again: Settings no longer shows the poller's error
            failures = 0
            if wait:
                stop.wait(idle_s)
    finally:
        poller.close()
        connection.close()


class BotThread(threading.Thread):
    def __init__(self, idle_s: float = 5.0) -> None:
        super().__init__(name="mesa-telegram", daemon=True)
        self.stop_event = threading.Event()
        self.idle_s = idle_s
        self.cycles = 0  # polling cycles started (each re-read the settings)
        # Health for Settings: the last failed cycle's error and when; cleared by nothing (a count says more).
        self.errors = 0
        self.last_error = ""
        self.last_error_at: float | None = None

    def _tick(self) -> None:
        self.cycles += 1

    def _failed(self, exc: BaseException) -> None:
        self.errors += 1
        self.last_error = f"{type(exc).__name__}: {exc}"[:300]
        self.last_error_at = time.time()

    def run(self) -> None:
        run_forever(self.stop_event, idle_s=self.idle_s, on_cycle=self._tick, on_error=self._failed)

    def stop(self, timeout: float | None = None) -> None:
        self.stop_event.set()
        self.join(timeout)


def start_in_thread(idle_s: float = 5.0) -> BotThread:
    """Start the Telegram long-polling loop in a daemon thread (for the scheduler process); ``.stop()`` ends it."""
    thread = BotThread(idle_s)
    thread.start()
    return thread

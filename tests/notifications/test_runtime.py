"""The notification threads of the scheduler process start Telegram only when it is wanted."""

from __future__ import annotations

import time
from typing import Any

import pytest

from notifications.runtime import NotificationThreads
from notifications.services import telegram_configure
from orgs.actors import Actor
from tests.factories import make_org
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(predicate: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_it_starts_the_telegram_bot_only_once_a_channel_is_enabled(fake_tg: FakeTelegram, settings: Any) -> None:
    settings.MESA_TELEGRAM_POLL_TIMEOUT_S = 0
    org = make_org(slug="runtime")
    threads = NotificationThreads(check_every_s=0.05)
    threads.start()
    try:
        assert threads.worker is not None and threads.worker.is_alive()
        time.sleep(0.3)
        assert threads.bot is None  # no Telegram channel: no bot, no python-telegram-bot import
        assert fake_tg.calls_of("getUpdates") == []
        telegram_configure(
            actor=Actor.system("tests"),
            org=org,
            token="123:GOOD",
            chat_id="42",
            allowed_user_ids="7",
            base_url=fake_tg.base_url,
        )
        assert _wait_for(lambda: threads.bot is not None)
        assert _wait_for(lambda: len(fake_tg.calls_of("getUpdates")) >= 1)
    finally:
        threads.stop(timeout=10)
    assert not threads.worker.is_alive()
    assert threads.bot is None or not threads.bot.is_alive()

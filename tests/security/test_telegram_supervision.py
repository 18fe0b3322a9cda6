"""Issue 16 item 10, replayed: one database error no longer kills the Telegram poller for good.

The attack: the database is locked for one polling cycle (``OperationalError``); afterwards the bot
must still answer the messages that arrive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError

from notifications import telegram_poller
from notifications.models import NotificationChannel
from notifications.services import telegram_configure
from orgs.actors import Actor
from tests.factories import make_org
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("tests")
TOKEN = "123:GOOD"


@pytest.fixture
def fake_tg() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(tokens={TOKEN}).start()
    yield fake
    fake.stop()


def _wait_for(predicate: Any) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_poller_survives_a_database_error_and_answers_later_updates(
    fake_tg: FakeTelegram, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.MESA_TELEGRAM_POLL_TIMEOUT_S = 0
    org = make_org(slug="acme", issue_prefix="ACME")
    telegram_configure(
        actor=SYSTEM, org=org, token=TOKEN, chat_id="-100123", allowed_user_ids="7", base_url=fake_tg.base_url
    )
    real = telegram_poller.enabled_bot_channels
    failed: list[int] = []
    observed = threading.Event()  # the next cycle waits until the test has seen the error in Settings

    def locked_once() -> Any:
        if not failed:
            failed.append(1)
            raise OperationalError("database is locked")
        observed.wait(10)
        return real()

    monkeypatch.setattr(telegram_poller, "enabled_bot_channels", locked_once)
    thread = telegram_poller.start_in_thread(idle_s=0.05)
    try:
        # While it retries, Settings shows why (the channel card's error).
        assert _wait_for(lambda: "database is locked" in NotificationChannel.objects.get().last_error)
        observed.set()
        fake_tg.message(user_id=7, chat_id=-100123, text="/help")
        assert _wait_for(lambda: len(fake_tg.calls_of("sendMessage")) == 1), "the poller died"
        assert thread.is_alive()
        assert thread.errors == 1 and "database is locked" in thread.last_error
        assert _wait_for(lambda: NotificationChannel.objects.get().last_error == "")  # healthy again
    finally:
        thread.stop(timeout=5)

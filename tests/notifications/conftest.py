from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from notifications.models import NotificationChannel
from notifications.services import telegram_configure
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.webhook_server import FakeWebhookServer
from tests.notifications.telegram_support import ALLOWED, CHAT, SYSTEM


@pytest.fixture
def fake_tg() -> Iterator[FakeTelegram]:
    from notifications.telegram_poller import reset_default_poller

    fake = FakeTelegram(tokens={"123:GOOD"}).start()
    yield fake
    reset_default_poller()
    fake.stop()


@pytest.fixture
def hook() -> Iterator[FakeWebhookServer]:
    server = FakeWebhookServer().start()
    yield server
    server.stop()


@pytest.fixture
def public_url(settings: Any) -> str:
    # Telegram refuses loopback URLs in buttons, so the Open button appears only for a public URL.
    settings.MESA_PUBLIC_URL = "https://mesa.example.com"
    return settings.MESA_PUBLIC_URL


@pytest.fixture
def bot(org: Any, fake_tg: FakeTelegram) -> NotificationChannel:
    """The org's Telegram channel, talking to the fake Bot API."""
    channel, _ = telegram_configure(
        actor=SYSTEM,
        org=org,
        token="123:GOOD",
        chat_id=str(CHAT),
        allowed_user_ids=str(ALLOWED),
        base_url=fake_tg.base_url,
    )
    return channel

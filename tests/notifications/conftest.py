from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.webhook_server import FakeWebhookServer


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

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from notifications.models import ChannelKind, NotificationChannel

pytestmark = pytest.mark.django_db


def test_it_configures_telegram_from_the_shell(org: Any) -> None:
    out = StringIO()

    call_command(
        "telegram-setup",
        "--org=acme",
        "--token=123456:ABCdef-token",
        "--chat=-100200",
        "--allow=11,22",
        "--base-url=http://127.0.0.1:8081",
        stdout=out,
    )

    channel = NotificationChannel.objects.get(org=org, kind=ChannelKind.TELEGRAM)
    assert channel.secret == "123456:ABCdef-token" and channel.enabled
    assert channel.config == {"chat_id": "-100200", "allowed_user_ids": [11, 22], "base_url": "http://127.0.0.1:8081"}
    assert "Created" in out.getvalue() and "ABCdef-token" not in out.getvalue()

    call_command("telegram-setup", "--org=acme", "--chat=-100300", "--allow=33", stdout=out)

    channel.refresh_from_db()
    assert channel.secret == "123456:ABCdef-token"  # kept when --token is omitted
    assert channel.config["chat_id"] == "-100300" and channel.config["allowed_user_ids"] == [33]
    assert channel.config["base_url"] == "https://api.telegram.org"
    assert NotificationChannel.objects.filter(org=org).count() == 1


def test_it_refuses_bad_input_with_a_clear_message(org: Any) -> None:
    with pytest.raises(CommandError, match="bot token looks like"):
        call_command("telegram-setup", "--org=acme", "--token=nope", "--chat=1", "--allow=1")
    with pytest.raises(CommandError, match="no org"):
        call_command("telegram-setup", "--org=missing", "--token=1234:abc", "--chat=1", "--allow=1")
    assert not NotificationChannel.objects.exists()


def test_it_runs_one_worker_cycle(org: Any) -> None:
    out = StringIO()

    call_command("notifications", "--once", stdout=out)

    assert "Read" in out.getvalue()

from __future__ import annotations

from typing import Any

import pytest

from notifications.models import Delivery, EventKind, NotificationChannel
from notifications.services import channel_create
from orgs.actors import Actor
from tests.factories import make_org

SYSTEM = Actor.system("tests")
HX = {"HTTP_HX_REQUEST": "true"}
pytestmark = pytest.mark.django_db


def _webhook(org: Any, **kw: Any) -> NotificationChannel:
    return channel_create(
        actor=SYSTEM, org=org, kind="webhook", config={"url": "https://hooks.example.com/mesa"}, secret="s" * 24, **kw
    )


def test_it_creates_a_telegram_channel_from_the_form(client: Any, org: Any) -> None:
    response = client.post(
        "/settings/notifications/new/",
        {
            "kind": "telegram",
            "name": "Ops bot",
            "enabled": "on",
            "events": [EventKind.APPROVAL_REQUESTED, EventKind.RUN_FAILED],
            "secret": "123456789:AAH-secret-token-value",
            "chat_id": "-1001234567890",
            "allowed_user_ids": "111, 222",
            "base_url": "",
        },
        **HX,
    )

    assert response.status_code == 200 and response["HX-Redirect"] == "/settings/notifications/"
    channel = NotificationChannel.objects.get(org=org)
    assert channel.secret == "123456789:AAH-secret-token-value"
    assert channel.config == {
        "chat_id": "-1001234567890",
        "allowed_user_ids": [111, 222],
        "base_url": "https://api.telegram.org",
    }
    assert channel.events == [EventKind.APPROVAL_REQUESTED, EventKind.RUN_FAILED]
    page = client.get("/settings/notifications/").content.decode()
    assert "Ops bot" in page and channel.secret_hint in page
    assert "AAH-secret-token-value" not in page  # never shown again


def test_it_shows_errors_inline_and_saves_nothing(client: Any, org: Any) -> None:
    response = client.post(
        "/settings/notifications/new/",
        {"kind": "telegram", "secret": "123456789:AAH-token", "chat_id": "-100", "allowed_user_ids": "ann"},
        **HX,
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "is not a Telegram user id" in html and 'id="new-channel"' in html
    assert not NotificationChannel.objects.exists()


def test_it_keeps_the_stored_secret_when_the_field_is_left_empty(client: Any, org: Any) -> None:
    channel = _webhook(org)

    response = client.post(
        f"/settings/notifications/{channel.pk}/",
        {
            "name": "Renamed",
            "enabled": "on",
            "events": [EventKind.AGENT_ERRORED],
            "secret": "",
            "url": "https://x.example/h",
        },
        **HX,
    )

    assert response.status_code == 200 and "Saved." in response.content.decode()
    channel.refresh_from_db()
    assert (channel.name, channel.secret, channel.config["url"]) == ("Renamed", "s" * 24, "https://x.example/h")
    assert channel.events == [EventKind.AGENT_ERRORED]


def test_it_refuses_a_bad_edit_inline(client: Any, org: Any) -> None:
    channel = _webhook(org)

    response = client.post(f"/settings/notifications/{channel.pk}/", {"name": "x", "url": "ftp://nope"}, **HX)

    assert response.status_code == 400 and "must be an http(s) URL" in response.content.decode()
    channel.refresh_from_db()
    assert channel.config["url"] == "https://hooks.example.com/mesa"


def test_it_queues_a_test_message_without_sending_in_the_request(client: Any, org: Any) -> None:
    channel = _webhook(org)

    response = client.post(f"/settings/notifications/{channel.pk}/test/", **HX)

    assert response.status_code == 200 and "queued" in response.content.decode()
    delivery = Delivery.objects.get(channel=channel)
    assert (delivery.kind, delivery.status, delivery.attempts) == ("test", "pending", 0)


def test_it_hides_channels_of_other_orgs(client: Any, org: Any) -> None:
    other = _webhook(make_org(slug="other"))

    assert client.post(f"/settings/notifications/{other.pk}/test/", **HX).status_code == 404
    assert client.post(f"/settings/notifications/{other.pk}/delete/").status_code == 404
    assert "hooks.example.com" not in client.get("/settings/notifications/").content.decode()
    assert NotificationChannel.objects.filter(pk=other.pk).exists()


def test_it_removes_a_channel(client: Any, org: Any) -> None:
    channel = _webhook(org)

    response = client.post(f"/settings/notifications/{channel.pk}/delete/")

    assert response.status_code == 302
    assert not NotificationChannel.objects.filter(pk=channel.pk).exists()


def test_it_needs_a_login_outside_trusted_local_mode(client: Any, org: Any, settings: Any) -> None:
    settings.MESA_TRUSTED_LOCAL = False

    response = client.get("/settings/notifications/")

    assert response.status_code == 302 and "login" in response["Location"]


def test_it_renders_the_page_in_bounded_queries(client: Any, org: Any, django_assert_max_num_queries: Any) -> None:
    for n in range(5):
        channel = _webhook(org, name=f"hook {n}")
        for _ in range(3):
            Delivery.objects.create(channel=channel, kind="test", payload={})

    with django_assert_max_num_queries(16):
        response = client.get("/settings/notifications/")

    assert response.status_code == 200 and response.content.decode().count("hook 4") >= 2


def test_it_swaps_the_fields_for_the_chosen_kind(client: Any, org: Any) -> None:
    html = client.get("/settings/notifications/new/?kind=webhook", **HX).content.decode()

    assert 'name="url"' in html and 'name="chat_id"' not in html

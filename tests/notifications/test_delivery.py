from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, EventKind
from notifications.services import _claim, channel_create, deliver_due, notify, send_test
from orgs.actors import Actor
from orgs.events import EventType
from orgs.models import Event
from tests.factories import make_org
from tests.fakes.webhook_server import FakeWebhookServer

SYSTEM = Actor.system("tests")
SECRET = "a-very-secret-signing-key"

pytestmark = pytest.mark.django_db


def _webhook(org: Any, hook: FakeWebhookServer, **kw: Any) -> Any:
    kw.setdefault("events", [EventKind.RUN_FAILED])
    return channel_create(actor=SYSTEM, org=org, kind="webhook", config={"url": hook.url()}, secret=SECRET, **kw)


def _only(org: Any) -> Delivery:
    return Delivery.objects.get(channel__org=org)


def test_it_signs_webhook_bodies_with_hmac(org: Any, hook: FakeWebhookServer) -> None:
    _webhook(org, hook)
    notify(org=org, kind=EventKind.RUN_FAILED, payload={"run_id": 7, "agent": "backend", "issue_key": "ACME-1"})

    assert deliver_due() == 1

    [req] = hook.requests
    timestamp = req.headers["x-mesa-timestamp"]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-mesa-signature"] == f"sha256={expected}"
    delivery = _only(org)
    assert req.headers["x-mesa-delivery"] == str(delivery.uid)
    assert req.headers["x-mesa-event"] == "run_failed"
    body = req.json()
    assert body["payload"]["issue_key"] == "ACME-1" and body["org"] == "acme" and "Run 7" in body["text"]
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1 and delivery.response_code == 200


def test_it_retries_with_exponential_backoff_on_5xx_until_success(org: Any, hook: FakeWebhookServer) -> None:
    _webhook(org, hook)
    hook.respond(500, "boom")
    hook.respond(502, "bad gateway")
    notify(org=org, kind=EventKind.RUN_FAILED, payload={"run_id": 1})
    t0 = timezone.now() + timedelta(seconds=1)

    assert deliver_due(now=t0) == 1
    d = _only(org)
    assert (d.status, d.attempts, d.response_code) == (DeliveryStatus.FAILED, 1, 500)
    assert d.next_attempt_at == t0 + timedelta(seconds=30)
    assert "boom" in d.last_error

    assert deliver_due(now=t0 + timedelta(seconds=29)) == 0  # not due yet
    assert deliver_due(now=t0 + timedelta(seconds=30)) == 1
    d.refresh_from_db()
    assert (d.status, d.attempts) == (DeliveryStatus.FAILED, 2)
    assert d.next_attempt_at == t0 + timedelta(seconds=30 + 60)  # doubled

    assert deliver_due(now=t0 + timedelta(seconds=90)) == 1
    d.refresh_from_db()
    assert (d.status, d.attempts, d.next_attempt_at) == (DeliveryStatus.SENT, 3, None)
    # Success stops the retries.
    assert deliver_due(now=t0 + timedelta(days=1)) == 0
    assert len(hook.requests) == 3
    assert [a.ok for a in d.attempt_log.all()] == [False, False, True]
    assert [a.response_code for a in d.attempt_log.all()] == [500, 502, 200]


def test_it_respects_retry_after_on_429(org: Any, hook: FakeWebhookServer) -> None:
    channel_create(actor=SYSTEM, org=org, kind="slack", secret=hook.url("/slack"), events=[EventKind.BUDGET_EXCEEDED])
    hook.respond(429, "rate limited", {"Retry-After": "17"})
    notify(org=org, kind=EventKind.BUDGET_EXCEEDED, payload={"agent": "backend"})
    t0 = timezone.now() + timedelta(seconds=1)

    deliver_due(now=t0)

    d = _only(org)
    assert (d.status, d.response_code) == (DeliveryStatus.FAILED, 429)
    assert d.next_attempt_at == t0 + timedelta(seconds=17)
    assert d.attempt_log.get().retry_after_s == 17
    assert deliver_due(now=t0 + timedelta(seconds=16)) == 0
    assert deliver_due(now=t0 + timedelta(seconds=17)) == 1
    d.refresh_from_db()
    assert d.status == DeliveryStatus.SENT
    assert "Budget exceeded" in json.loads(hook.requests[-1].body)["text"]


def test_it_respects_discords_retry_after_body(org: Any, hook: FakeWebhookServer) -> None:
    channel_create(actor=SYSTEM, org=org, kind="discord", secret=hook.url("/discord"), events=[EventKind.RUN_FAILED])
    hook.respond(429, {"message": "You are being rate limited.", "retry_after": 2.5, "global": False})
    notify(org=org, kind=EventKind.RUN_FAILED, payload={"run_id": 3})
    t0 = timezone.now() + timedelta(seconds=1)

    deliver_due(now=t0)

    d = _only(org)
    assert d.next_attempt_at == t0 + timedelta(seconds=2.5)
    hook.default_status = 204
    deliver_due(now=t0 + timedelta(seconds=3))
    d.refresh_from_db()
    assert (d.status, d.response_code) == (DeliveryStatus.SENT, 204)
    embed = hook.requests[-1].json()["embeds"][0]
    assert embed["title"] == "Run failed" and "Run 3" in embed["description"]


def test_it_gives_up_after_the_attempt_limit(org: Any, hook: FakeWebhookServer, settings: Any) -> None:
    settings.MESA_NOTIFY_MAX_ATTEMPTS = 2
    hook.default_status = 503
    _webhook(org, hook)
    notify(org=org, kind=EventKind.RUN_FAILED, payload={})
    t0 = timezone.now() + timedelta(seconds=1)

    deliver_due(now=t0)
    deliver_due(now=t0 + timedelta(hours=1))

    d = _only(org)
    assert (d.status, d.attempts, d.next_attempt_at) == (DeliveryStatus.DEAD, 2, None)
    assert deliver_due(now=t0 + timedelta(days=2)) == 0
    assert len(hook.requests) == 2
    d.channel.refresh_from_db()
    assert "503" in d.channel.last_error


def test_it_does_not_retry_a_permanent_4xx(org: Any, hook: FakeWebhookServer) -> None:
    _webhook(org, hook)
    hook.respond(404, "no such hook")
    notify(org=org, kind=EventKind.RUN_FAILED, payload={})

    deliver_due()

    d = _only(org)
    assert (d.status, d.attempts, d.response_code) == (DeliveryStatus.DEAD, 1, 404)


def test_it_retries_network_errors_and_keeps_the_secret_out_of_errors(org: Any) -> None:
    import socket

    # Bound but not listening: connections are refused, and no other test can be handed the port meanwhile.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        secret_url = f"http://127.0.0.1:{port}/api/webhooks/1/s3cr3t-token"
        channel_create(actor=SYSTEM, org=org, kind="discord", secret=secret_url, events=[EventKind.RUN_FAILED])
        notify(org=org, kind=EventKind.RUN_FAILED, payload={})

        deliver_due()

    d = _only(org)
    assert d.status == DeliveryStatus.FAILED and d.response_code is None
    assert d.last_error.startswith("Network error")
    assert "s3cr3t-token" not in d.last_error and "s3cr3t-token" not in d.channel.last_error


def test_it_queues_only_for_enabled_subscribed_channels(org: Any, hook: FakeWebhookServer) -> None:
    wants = _webhook(org, hook, name="wants")
    _webhook(org, hook, name="other events", events=[EventKind.AGENT_ERRORED])
    _webhook(org, hook, name="off", enabled=False)
    _webhook(make_org(slug="else"), hook, name="other org")

    queued = notify(org=org, kind=EventKind.RUN_FAILED, payload={})

    assert [d.channel_id for d in queued] == [wants.pk]


def test_it_lets_only_one_worker_claim_a_delivery(org: Any, hook: FakeWebhookServer) -> None:
    _webhook(org, hook)
    [delivery] = notify(org=org, kind=EventKind.RUN_FAILED, payload={})
    now = timezone.now() + timedelta(seconds=1)

    assert _claim(delivery.pk, now) is not None
    assert _claim(delivery.pk, now) is None
    assert deliver_due(now=now) == 0  # leased to the first worker


def test_it_shows_every_attempt_in_the_delivery_log(
    client: Any, org: Any, hook: FakeWebhookServer, django_assert_max_num_queries: Any
) -> None:
    _webhook(org, hook, name="Ops hook")
    hook.respond(500, "first failure")
    for n in range(3):
        notify(org=org, kind=EventKind.RUN_FAILED, payload={"run_id": n})
    t0 = timezone.now() + timedelta(seconds=1)
    deliver_due(now=t0)
    deliver_due(now=t0 + timedelta(minutes=5))

    with django_assert_max_num_queries(12):
        response = client.get("/settings/notifications/log/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<li>") == 4  # 2 attempts for the first delivery, 1 for the others
    assert "first failure" in html and "Ops hook" in html

    page = client.get("/settings/notifications/")
    assert "first failure" in page.content.decode()


def test_it_publishes_a_live_event_when_a_delivery_is_queued_sent_or_failed(
    client: Any, org: Any, hook: FakeWebhookServer
) -> None:
    channel = _webhook(org, hook)
    hook.respond(500, "boom")
    [failing] = notify(org=org, kind=EventKind.RUN_FAILED, payload={"run_id": 1})
    deliver_due(now=timezone.now() + timedelta(seconds=1))
    [sent] = notify(org=org, kind=EventKind.RUN_FAILED, payload={"run_id": 2})
    deliver_due(now=timezone.now() + timedelta(seconds=1))

    events = Event.objects.filter(type=EventType.NOTIFICATION_DELIVERY).order_by("id")

    # The delivery log in Settings refreshes on these instead of polling.
    assert [(e.data["id"], e.data["status"]) for e in events] == [
        (failing.pk, DeliveryStatus.PENDING),
        (failing.pk, DeliveryStatus.FAILED),
        (sent.pk, DeliveryStatus.PENDING),
        (sent.pk, DeliveryStatus.SENT),
    ]
    assert all(e.org_id == org.pk and e.data["channel_id"] == channel.pk for e in events)
    page = client.get("/settings/notifications/").content.decode()
    assert 'id="delivery-log"' in page and 'hx-trigger="mesa:notification_delivery from:body' in page


def test_it_redacts_the_webhook_path_a_server_echoes_from_the_attempt_and_the_channel(hook: Any, org: Any) -> None:
    channel = channel_create(
        actor=Actor.system("tests"), org=org, kind="slack", secret=hook.url("/services/T0/B0/SlackSecretPart")
    )
    hook.respond(400, "invalid_token for /services/T0/B0/slacksecretpart")
    send_test(actor=Actor.system("tests"), channel=channel)
    deliver_due()
    channel.refresh_from_db()
    error = DeliveryAttempt.objects.get().error
    assert error.startswith("HTTP 400") and "[redacted]" in error
    assert "slacksecretpart" not in (error + channel.last_error).lower()

"""Issue 16 item 5 (redaction), replayed: secrets leak neither through a run's stored output, the
delivery log, nor the logs.

The attacks: an agent prints a host variable Mesa injects under a harmless-looking name
(``DEPLOY_PWD``), in capitals and base64; the Bot API answers an error that python-telegram-bot
capitalises (lowercasing the token in it); a webhook server echoes the secret webhook path; the
request logger writes the Bot API URL, which holds the token.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from notifications.models import Delivery, DeliveryAttempt, NotificationChannel
from notifications.services import channel_create, send_test
from notifications.telegram_poller import Poller
from notifications.worker import run_once
from orgs.actors import Actor
from runners.models import Run, RunEvent
from tests.factories import make_agent, make_issue, make_org
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.webhook_server import FakeWebhookServer
from tests.runners.conftest import script
from tests.security.live import fetch, operator_cookie

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("tests")
DEPLOY_PWD = "Hunter2-deploy-9Qz"
AGENT_SECRET = "agent-env-value-5xw"
TOKEN = "123456789:AAHsecretBotTokenValue42"

LEAKY_CLI = """
import base64, json, os
pwd, own = os.environ["DEPLOY_PWD"], os.environ["RELEASE_NOTE_SIGNER"]
basic = base64.b64encode(("deploy:" + pwd).encode()).decode()
print(json.dumps({"type": "text", "text": "pwd " + pwd.upper() + " basic " + basic}))
print(json.dumps({"type": "text", "text": "own " + base64.b64encode(own.encode()).decode()}))
print("plain " + pwd.lower() + " " + own)
print(json.dumps({"type": "result", "result": "done " + pwd}))
"""


@pytest.fixture(autouse=True)
def _runner_dirs(settings: Any, tmp_path: Path) -> None:
    settings.MESA_WORKTREES_DIR = str(tmp_path / "worktrees")
    settings.MESA_WORKSPACES_DIR = str(tmp_path / "workspaces")
    settings.MESA_KILL_GRACE_S = 1


@pytest.fixture
def fake_tg() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(tokens={TOKEN}).start()
    yield fake
    fake.stop()


@pytest.fixture
def hook() -> Iterator[FakeWebhookServer]:
    server = FakeWebhookServer().start()
    yield server
    server.stop()


def test_a_run_stores_no_injected_value_in_any_case_or_encoding(
    live_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOY_PWD", DEPLOY_PWD)  # a host variable the agent inherits; not KEY/TOKEN-like
    org = make_org(slug="acme", issue_prefix="ACME")
    cli = script(tmp_path, "leaky-cli", LEAKY_CLI)
    agent = make_agent(org, slug="leaky", runner="command", model=str(cli), env={"RELEASE_NOTE_SIGNER": AGENT_SECRET})
    issue = make_issue(org, title="Print the env", assignee=agent)

    call_command("scheduler", once=True)

    run = Run.objects.get(issue=issue)
    stored = json.dumps(list(RunEvent.objects.filter(run=run).values_list("data", flat=True)))
    stored += run.stdout + run.stderr + run.failure_reason
    page = fetch(f"{live_server.url}/runs/{run.pk}/", cookie=operator_cookie())
    assert page.status == 200
    basic = base64.b64encode(f"deploy:{DEPLOY_PWD}".encode()).decode()
    own = base64.b64encode(AGENT_SECRET.encode()).decode()
    for text in (stored, page.body):
        assert "[redacted]" in text
        for leak in (DEPLOY_PWD, DEPLOY_PWD.upper(), DEPLOY_PWD.lower(), basic[8:], own[:12], AGENT_SECRET):
            assert leak not in text


def test_a_capitalised_telegram_error_shows_no_token_on_the_delivery_log(
    live_server: Any, fake_tg: FakeTelegram
) -> None:
    org = make_org(slug="acme", issue_prefix="ACME")
    channel = channel_create(
        actor=SYSTEM,
        org=org,
        kind="telegram",
        config={"chat_id": "-100123", "allowed_user_ids": [7], "base_url": fake_tg.base_url},
        secret=TOKEN,
    )
    # PTB strips "Bad Request: " and capitalises the rest: the token arrives lowercased.
    fake_tg.fail_next(
        "sendMessage",
        400,
        {"ok": False, "error_code": 400, "description": f"Bad Request: chat of bot{TOKEN} not found"},
    )
    send_test(actor=SYSTEM, channel=channel)

    run_once()

    attempt = DeliveryAttempt.objects.get()
    assert not attempt.ok and "chat of bot" in attempt.error.lower()
    stored = attempt.error + Delivery.objects.get().last_error + NotificationChannel.objects.get().last_error
    page = fetch(f"{live_server.url}/settings/notifications/", cookie=operator_cookie())
    for text in (stored, page.body):
        assert "aahsecretbottoken" not in text.lower()


def test_a_webhook_path_echoed_in_an_error_does_not_show_on_the_delivery_log(
    live_server: Any, hook: FakeWebhookServer
) -> None:
    org = make_org(slug="acme", issue_prefix="ACME")
    secret_path = "/api/webhooks/111/Hook-Secret-Path-Value"
    channel = channel_create(actor=SYSTEM, org=org, kind="discord", secret=hook.url(secret_path))
    hook.respond(404, f"Unknown Webhook: POST {secret_path.lower()}")
    send_test(actor=SYSTEM, channel=channel)

    run_once()

    attempt = DeliveryAttempt.objects.get()
    assert attempt.response_code == 404 and "Unknown Webhook" in attempt.error
    page = fetch(f"{live_server.url}/settings/notifications/log/", cookie=operator_cookie())
    for text in (attempt.error, Delivery.objects.get().last_error, page.body):
        assert "hook-secret-path-value" not in text.lower()


def test_the_request_logger_never_writes_the_bot_token(fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    org = make_org(slug="acme", issue_prefix="ACME")
    channel = channel_create(
        actor=SYSTEM,
        org=org,
        kind="telegram",
        config={"chat_id": "-100123", "allowed_user_ids": [7], "base_url": fake_tg.base_url},
        secret=TOKEN,
    )
    caplog.set_level(logging.DEBUG, logger="httpx")  # an operator debugging the bot turns it on
    poller = Poller()
    try:
        poller.poll_channel(channel)
    finally:
        poller.close()

    assert "HTTP Request" in caplog.text  # the request logger did write the Bot API URLs
    assert "AAHsecretBotToken" not in caplog.text

"""Mesa against the Bot API's refusals: the fake answers them as the real API does (tests/fakes/telegram_api.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from approvals.models import ApprovalStatus
from approvals.services import approval_create, approval_resolve
from notifications.models import Delivery, DeliveryStatus, EventKind, NotificationChannel, TelegramMessage
from notifications.services import deliver_due, notify, telegram_configure
from notifications.telegram_bot import send_approval_message, show_decision
from notifications.telegram_client import TelegramClient
from notifications.worker import run_once
from orgs.actors import Actor
from tests.fakes.telegram_api import FakeTelegram

SYSTEM = Actor.system("tests")
CHAT = -100123
OTHER_CHAT = 4242

pytestmark = pytest.mark.django_db


def _bot(org: Any, fake_tg: FakeTelegram, chat_id: str = str(CHAT)) -> NotificationChannel:
    channel, _ = telegram_configure(
        actor=SYSTEM, org=org, token="123:GOOD", chat_id=chat_id, allowed_user_ids="111", base_url=fake_tg.base_url
    )
    return channel


def _answers(fake_tg: FakeTelegram, method: str) -> list[dict[str, Any]]:
    """What the fake answered to each call of ``method`` that failed (the successful ones carry _result)."""
    return [c.params for c in fake_tg.calls_of(method) if "_result" not in c.params]


def test_it_answers_an_unknown_method_with_404_like_the_bot_api(fake_tg: FakeTelegram) -> None:
    request = urllib.request.Request(f"{fake_tg.base_url}/bot123:GOOD/sendTelepathy", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 404
    assert json.loads(caught.value.read()) == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_it_counts_an_edit_to_the_text_already_shown_as_done(org: Any, fake_tg: FakeTelegram) -> None:
    channel = _bot(org, fake_tg)
    approval = approval_create(actor=SYSTEM, org=org, title="Deploy")
    run_once()
    approval = approval_resolve(actor=Actor.human(label="alice"), approval=approval, decision="approved")
    run_once()
    assert TelegramMessage.objects.get(approval=approval).shown_status == ApprovalStatus.APPROVED
    # A crash after the edit but before the row was updated: the retry edits to the same text.
    TelegramMessage.objects.filter(approval=approval).update(shown_status=ApprovalStatus.PENDING)
    client = TelegramClient(channel.secret, fake_tg.base_url)
    try:
        assert show_decision(client=client, approval=approval) == 1
    finally:
        client.close()

    assert len(fake_tg.calls_of("editMessageText")) == 2 and len(_answers(fake_tg, "editMessageText")) == 1
    assert TelegramMessage.objects.get(approval=approval).shown_status == ApprovalStatus.APPROVED


def test_it_skips_a_message_deleted_in_the_chat_and_edits_the_others(org: Any, fake_tg: FakeTelegram) -> None:
    channel = _bot(org, fake_tg)
    approval = approval_create(actor=SYSTEM, org=org, title="Deploy")
    run_once()
    client = TelegramClient(channel.secret, fake_tg.base_url)
    try:  # /approvals in a second chat sent it there too
        second = send_approval_message(client=client, channel=channel, approval=approval, chat_id=OTHER_CHAT)
    finally:
        client.close()
    first = TelegramMessage.objects.exclude(pk=second.pk).get(approval=approval)
    fake_tg.forget_message(first.chat_id, first.message_id)

    approval_resolve(actor=Actor.human(label="alice"), approval=approval, decision="rejected", comment="No")
    run_once()

    assert fake_tg.messages[(OTHER_CHAT, second.message_id)][0].endswith("Rejected by alice: No")
    assert _answers(fake_tg, "editMessageText")  # Telegram said "message to edit not found" once
    resolved = Delivery.objects.filter(channel=channel).order_by("id").last()
    assert resolved is not None and resolved.status == DeliveryStatus.SENT
    # The deleted one is not tried again on the next pass.
    assert set(TelegramMessage.objects.values_list("shown_status", flat=True)) == {ApprovalStatus.REJECTED}
    edits = len(fake_tg.calls_of("editMessageText"))
    run_once()
    assert len(fake_tg.calls_of("editMessageText")) == edits


def test_it_sends_to_a_public_channel_by_its_username(org: Any, fake_tg: FakeTelegram) -> None:
    _bot(org, fake_tg, chat_id="@mesa_news")
    approval = approval_create(actor=SYSTEM, org=org, title="Deploy")
    run_once()

    [sent] = fake_tg.calls_of("sendMessage")
    assert sent.params["chat_id"] == "@mesa_news" and sent.params["_result"]["chat"]["type"] == "channel"
    stored = TelegramMessage.objects.get(approval=approval)
    assert stored.chat_id == sent.params["_result"]["chat"]["id"] < 0
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_it_cuts_a_long_notification_to_telegrams_limit(org: Any, fake_tg: FakeTelegram) -> None:
    _bot(org, fake_tg)
    notify(org=org, kind=EventKind.RUN_FAILED, payload={"run_id": 7, "failure_reason": "x" * 6000})

    assert deliver_due() == 1

    [sent] = fake_tg.calls_of("sendMessage")
    assert "_result" in sent.params and len(sent.params["text"]) == 4096
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_it_never_puts_a_localhost_link_in_a_button(org: Any, fake_tg: FakeTelegram, settings: Any) -> None:
    settings.MESA_PUBLIC_URL = "http://localhost:3001"
    _bot(org, fake_tg)
    notify(org=org, kind=EventKind.RUN_FAILED, payload={"run_id": 7, "issue_key": "ACME-1"})

    assert deliver_due() == 1

    [sent] = fake_tg.calls_of("sendMessage")
    assert "_result" in sent.params and "reply_markup" not in sent.params
    assert sent.params["text"].endswith("http://localhost:3001/issues/ACME-1/")
    assert Delivery.objects.get().status == DeliveryStatus.SENT

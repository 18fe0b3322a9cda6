from __future__ import annotations

import threading
from typing import Any

import pytest

from approvals.models import ApprovalStatus
from approvals.services import approval_create, approval_resolve
from notifications import telegram_poller
from notifications.models import ChannelKind, Delivery, DeliveryStatus, NotificationChannel, TelegramMessage
from notifications.services import channel_create, deliver_due, telegram_configure
from notifications.telegram_client import TelegramCallError, TelegramClient
from notifications.telegram_poller import poll_once
from notifications.worker import run_once
from orgs.actors import Actor
from runners.models import RunStatus
from runners.services import scheduler_paused
from tests.factories import make_agent, make_issue, make_run
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.webhook_server import FakeWebhookServer
from tests.notifications.telegram_support import ALLOWED, CHAT, SYSTEM
from tests.notifications.telegram_support import ask as _ask

STRANGER = 666

pytestmark = pytest.mark.django_db


def _buttons(markup: dict[str, Any]) -> list[dict[str, Any]]:
    return [button for row in markup["inline_keyboard"] for button in row]


def test_it_sends_a_new_approval_with_approve_reject_and_open_buttons(
    org: Any, bot: NotificationChannel, fake_tg: FakeTelegram, public_url: str
) -> None:
    approval, _ = _ask(org, fake_tg)

    [call] = fake_tg.calls_of("sendMessage")
    assert call.token == "123:GOOD" and call.params["chat_id"] == str(CHAT)
    assert "Deploy to production" in call.params["text"] and "Release day" in call.params["text"]
    buttons = _buttons(call.params["reply_markup"])
    assert [b["text"] for b in buttons] == ["Approve", "Reject", "Open"]
    assert buttons[0]["callback_data"] == f"mesa:approve:{approval.pk}"
    assert buttons[1]["callback_data"] == f"mesa:reject:{approval.pk}"
    assert buttons[2]["url"] == f"{public_url}/approvals/#approval-{approval.pk}"
    stored = TelegramMessage.objects.get(approval=approval)
    assert (stored.chat_id, stored.message_id) == (CHAT, call.params["_result"]["message_id"])
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_it_shows_a_loopback_link_as_text_because_telegram_refuses_it_in_buttons(
    org: Any, bot: NotificationChannel, fake_tg: FakeTelegram
) -> None:
    approval, msg = _ask(org, fake_tg)

    assert [b["text"] for b in _buttons(msg["reply_markup"])] == ["Approve", "Reject"]
    assert f"http://127.0.0.1:3001/approvals/#approval-{approval.pk}" in msg["text"]


def test_it_approves_on_a_press_by_an_allowed_user(org: Any, bot: NotificationChannel, fake_tg: FakeTelegram) -> None:
    approval, msg = _ask(org, fake_tg)
    press = fake_tg.press(user_id=ALLOWED, first_name="Ann", data=f"mesa:approve:{approval.pk}", message=msg)

    assert poll_once() == 1

    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.APPROVED
    assert approval.decided_by_label == f"telegram:{ALLOWED} (Ann)"
    [answer] = fake_tg.calls_of("answerCallbackQuery")
    assert answer.params["callback_query_id"] == press["callback_query"]["id"]
    assert answer.params["text"] == "Approved."
    [edit] = fake_tg.calls_of("editMessageText")
    assert int(edit.params["message_id"]) == msg["message_id"]
    assert f"Approved by telegram:{ALLOWED} (Ann)" in edit.params["text"]
    assert "reply_markup" not in edit.params or not _buttons(edit.params["reply_markup"])
    # The decision event finds the message already up to date: no second edit.
    run_once()
    assert len(fake_tg.calls_of("editMessageText")) == 1


def test_it_refuses_a_press_by_anyone_else(org: Any, bot: NotificationChannel, fake_tg: FakeTelegram) -> None:
    approval, msg = _ask(org, fake_tg)
    fake_tg.press(user_id=STRANGER, first_name="Mallory", data=f"mesa:approve:{approval.pk}", message=msg)

    poll_once()

    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING
    [answer] = fake_tg.calls_of("answerCallbackQuery")
    assert "not allowed" in answer.params["text"] and answer.params["show_alert"] in (True, "true", "True")
    assert fake_tg.calls_of("editMessageText") == []


def test_it_answers_a_double_press_with_who_decided(org: Any, bot: NotificationChannel, fake_tg: FakeTelegram) -> None:
    approval, msg = _ask(org, fake_tg)
    fake_tg.press(user_id=ALLOWED, first_name="Ann", data=f"mesa:approve:{approval.pk}", message=msg)
    fake_tg.press(user_id=ALLOWED, first_name="Ann", data=f"mesa:reject:{approval.pk}", message=msg)

    assert poll_once() == 2

    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.APPROVED  # the second press changed nothing
    first, second = fake_tg.calls_of("answerCallbackQuery")
    assert second.params["text"] == f"Already approved by telegram:{ALLOWED} (Ann)."
    assert len(fake_tg.calls_of("editMessageText")) == 1


def test_it_edits_the_message_when_decided_in_the_browser(
    org: Any, bot: NotificationChannel, fake_tg: FakeTelegram
) -> None:
    approval, msg = _ask(org, fake_tg)

    approval_resolve(actor=Actor.human(label="alice"), approval=approval, decision="rejected", comment="Not today")
    run_once()

    [edit] = fake_tg.calls_of("editMessageText")
    assert int(edit.params["message_id"]) == msg["message_id"] and int(edit.params["chat_id"]) == CHAT
    assert "Rejected by alice: Not today" in edit.params["text"]
    assert TelegramMessage.objects.get(approval=approval).shown_status == ApprovalStatus.REJECTED
    run_once()
    assert len(fake_tg.calls_of("editMessageText")) == 1


def test_it_rejects_with_the_text_of_a_reply_as_the_reason(
    org: Any, bot: NotificationChannel, fake_tg: FakeTelegram
) -> None:
    approval, msg = _ask(org, fake_tg)
    fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="Too risky before the demo", reply_to=msg, first_name="Ann")

    poll_once()

    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.REJECTED
    assert approval.decision_comment == "Too risky before the demo"
    assert approval.decided_by_label == f"telegram:{ALLOWED} (Ann)"
    [edit] = fake_tg.calls_of("editMessageText")
    assert "Rejected by telegram:111 (Ann): Too risky before the demo" in edit.params["text"]


def test_it_ignores_a_reply_with_a_reason_from_anyone_else(
    org: Any, bot: NotificationChannel, fake_tg: FakeTelegram
) -> None:
    approval, msg = _ask(org, fake_tg)
    fake_tg.message(user_id=STRANGER, chat_id=CHAT, text="reject it", reply_to=msg)

    poll_once()

    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING
    assert "not allowed" in fake_tg.calls_of("sendMessage")[-1].params["text"]


def test_it_reports_a_wrong_token_in_settings_and_nothing_else_breaks(
    client: Any, org: Any, fake_tg: FakeTelegram, hook: FakeWebhookServer
) -> None:
    channel, _ = telegram_configure(
        actor=SYSTEM, org=org, token="999:WRONG", chat_id=str(CHAT), allowed_user_ids="1", base_url=fake_tg.base_url
    )
    channel_create(actor=SYSTEM, org=org, kind="webhook", config={"url": hook.url()}, secret="k" * 20)

    assert poll_once() == 0
    approval_create(actor=SYSTEM, org=org, title="Deploy")
    run_once()

    channel.refresh_from_db()
    assert "rejected the bot token (401 Unauthorized)" in channel.last_error
    page = client.get("/settings/notifications/").content.decode()
    assert "rejected the bot token (401 Unauthorized)" in page
    assert "999:WRONG" not in page and "999:WRONG" not in channel.last_error
    # The Telegram delivery is dead with the same clear error; the webhook got its notification.
    tg_delivery = Delivery.objects.get(channel=channel)
    assert (tg_delivery.status, tg_delivery.response_code) == (DeliveryStatus.DEAD, 401)
    assert len(hook.requests) == 1
    # A refused token is not hammered on every cycle.
    calls = len(fake_tg.calls)
    poll_once()
    assert len(fake_tg.calls) == calls


def test_it_answers_status(org: Any, bot: NotificationChannel, fake_tg: FakeTelegram) -> None:
    agent = make_agent(org)
    make_run(agent, status=RunStatus.RUNNING, cost_usd="1.25")
    make_run(agent, status=RunStatus.COMPLETED, cost_usd="0.50")
    make_issue(org)
    approval_create(actor=SYSTEM, org=org, title="Q")
    fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="/status")

    poll_once()

    text = fake_tg.calls_of("sendMessage")[-1].params["text"]
    assert "Runs: 1 running, 0 queued" in text
    assert "Open issues: 1" in text
    assert "Today's cost: $1.75" in text
    assert "Pending approvals: 1" in text


def test_it_pauses_and_resumes_the_scheduler(org: Any, bot: NotificationChannel, fake_tg: FakeTelegram) -> None:
    fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="/pause")
    poll_once()
    org.refresh_from_db()
    assert scheduler_paused() is True
    assert fake_tg.calls_of("sendMessage")[-1].params["text"] == (
        "Scheduler paused: no new runs start (running ones finish)."
    )

    fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="/resume@mesa_test_bot")
    poll_once()
    org.refresh_from_db()
    assert scheduler_paused() is False
    assert fake_tg.calls_of("sendMessage")[-1].params["text"] == "Scheduler resumed."


def test_it_refuses_commands_from_anyone_else(org: Any, bot: NotificationChannel, fake_tg: FakeTelegram) -> None:
    fake_tg.message(user_id=STRANGER, chat_id=CHAT, text="/pause")

    poll_once()

    org.refresh_from_db()
    assert scheduler_paused() is False
    assert fake_tg.calls_of("sendMessage")[-1].params["text"].startswith("You are not allowed")


def test_it_lists_pending_approvals_with_buttons(org: Any, bot: NotificationChannel, fake_tg: FakeTelegram) -> None:
    first = approval_create(actor=SYSTEM, org=org, title="First")
    approval_create(actor=SYSTEM, org=org, title="Second")
    approval_resolve(actor=SYSTEM, approval=first, decision="approved")
    fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="/approvals")

    poll_once()

    [sent] = fake_tg.calls_of("sendMessage")
    assert "Second" in sent.params["text"] and _buttons(sent.params["reply_markup"])[0]["text"] == "Approve"


def test_it_confirms_updates_with_the_offset(org: Any, bot: NotificationChannel, fake_tg: FakeTelegram) -> None:
    update = fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="/help")

    assert poll_once() == 1
    assert poll_once() == 0

    bot.refresh_from_db()
    assert bot.poll_offset == update["update_id"] + 1
    assert int(fake_tg.calls_of("getUpdates")[-1].params["offset"]) == update["update_id"] + 1
    assert len(fake_tg.calls_of("sendMessage")) == 1


def test_it_stops_and_starts_with_the_setting(org: Any, bot: NotificationChannel, fake_tg: FakeTelegram) -> None:
    bot.enabled = False
    bot.save()
    fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="/help")

    assert poll_once() == 0
    assert fake_tg.calls_of("getUpdates") == []

    bot.enabled = True
    bot.save()
    assert poll_once() == 1


def test_it_retries_a_telegram_429_after_retry_after(org: Any, bot: NotificationChannel, fake_tg: FakeTelegram) -> None:
    from datetime import timedelta

    from django.utils import timezone

    fake_tg.fail_next(
        "sendMessage",
        429,
        {"ok": False, "error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 12}},
    )
    approval_create(actor=SYSTEM, org=org, title="Deploy")
    from notifications.events import process_events

    process_events()
    t0 = timezone.now() + timedelta(seconds=1)
    deliver_due(now=t0)

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.response_code) == (DeliveryStatus.FAILED, 429)
    assert delivery.next_attempt_at == t0 + timedelta(seconds=12)
    deliver_due(now=t0 + timedelta(seconds=12))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert TelegramMessage.objects.count() == 1


def test_it_keeps_one_telegram_bot_per_org(org: Any, bot: NotificationChannel) -> None:
    from orgs.errors import InvalidInput

    with pytest.raises(InvalidInput):
        channel_create(
            actor=SYSTEM,
            org=org,
            kind=ChannelKind.TELEGRAM,
            secret="123:OTHER",
            config={"chat_id": "1", "allowed_user_ids": "1"},
        )


def test_it_clears_a_polling_error_once_polling_works_again(
    org: Any, bot: NotificationChannel, fake_tg: FakeTelegram
) -> None:
    poll_once()  # getMe done; the next cycles only poll
    fake_tg.fail_next("getUpdates", 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})

    poll_once()
    bot.refresh_from_db()
    assert "Could not reach the Telegram Bot API" in bot.last_error

    poll_once()
    bot.refresh_from_db()
    assert bot.last_error == ""


@pytest.mark.django_db(transaction=True)
def test_it_polls_in_a_thread_and_follows_the_setting_without_restart(fake_tg: FakeTelegram, settings: Any) -> None:
    import time

    from notifications.telegram_poller import start_in_thread
    from tests.factories import make_org

    settings.MESA_TELEGRAM_POLL_TIMEOUT_S = 0
    org = make_org(slug="threaded")
    channel, _ = telegram_configure(
        actor=SYSTEM,
        org=org,
        token="123:GOOD",
        chat_id=str(CHAT),
        allowed_user_ids=str(ALLOWED),
        base_url=fake_tg.base_url,
    )
    thread = start_in_thread(idle_s=0.05)

    def wait_for(predicate: Any) -> bool:
        deadline = time.monotonic() + 30  # a condition, not a timing: long enough for a loaded machine
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return False

    try:
        fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="/help")
        assert wait_for(lambda: len(fake_tg.calls_of("sendMessage")) == 1)

        # A conditional update, as the settings service does: a whole-row save() from this stale object
        # would also write back the poll_offset and last_error the bot thread keeps updating meanwhile.
        NotificationChannel.objects.filter(pk=channel.pk).update(enabled=False)
        # Once a whole cycle has started after the change, the disabled bot no longer polls.
        seen = thread.cycles
        assert wait_for(lambda: thread.cycles >= seen + 2)
        polls = len(fake_tg.calls_of("getUpdates"))
        fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="/status")
        seen = thread.cycles
        assert wait_for(lambda: thread.cycles >= seen + 2)
        assert len(fake_tg.calls_of("getUpdates")) == polls
        assert len(fake_tg.calls_of("sendMessage")) == 1  # the /status sent while disabled is not answered

        NotificationChannel.objects.filter(pk=channel.pk).update(enabled=True)
        assert wait_for(lambda: len(fake_tg.calls_of("sendMessage")) == 2)  # back on, no restart
    finally:
        thread.stop(timeout=10)
    assert not thread.is_alive()


def test_it_scrubs_the_token_from_a_capitalised_bot_api_error(fake_tg: FakeTelegram) -> None:
    # PTB turns "Bad Request: chat of bot123:GOOD gone" into "Chat of bot123:good gone".
    fake_tg.fail_next(
        "sendMessage", 400, {"ok": False, "error_code": 400, "description": "Bad Request: bot123:GOOD gone"}
    )
    client = TelegramClient("123:GOOD", fake_tg.base_url)
    try:
        with pytest.raises(TelegramCallError) as exc:
            client.send_message(chat_id=1, text="hi")
    finally:
        client.close()
    assert exc.value.status == 400 and "[redacted]" in exc.value.message
    assert "123:good" not in exc.value.message.lower()


def test_it_backs_off_after_a_failed_cycle_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    calls: list[int] = []
    errors: list[BaseException] = []
    pauses: list[float | None] = []

    def cycle(poller: Any, stop_: Any, *, long_timeout: int) -> bool:
        calls.append(1)
        if len(calls) <= 2:
            raise RuntimeError("boom")
        stop.set()
        return False

    monkeypatch.setattr(telegram_poller, "_cycle", cycle)
    monkeypatch.setattr(telegram_poller, "_health", lambda error: None)

    def pause(timeout: float | None = None) -> bool:
        pauses.append(timeout)
        return False

    monkeypatch.setattr(stop, "wait", pause)
    telegram_poller.run_forever(stop, idle_s=2.0, on_error=errors.append)

    assert len(calls) == 3 and [str(e) for e in errors] == ["boom", "boom"]
    assert pauses == [2.0, 4.0]  # doubling pauses, then the loop went on

"""The Telegram bot when updates are odd or things change under it: gone approvals, a bad update among good
ones, a new token, several orgs' bots, /help, and texts longer than Telegram takes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from approvals.models import Approval, ApprovalStatus
from approvals.services import approval_create
from notifications.models import NotificationChannel, TelegramMessage
from notifications.services import telegram_configure
from notifications.telegram_bot import HELP
from notifications.telegram_client import TELEGRAM_TEXT_MAX, fit_text
from notifications.telegram_poller import Poller, _cycle, poll_once
from tests.factories import make_org
from tests.fakes.telegram_api import FakeTelegram
from tests.notifications.telegram_support import ALLOWED, CHAT, SYSTEM
from tests.notifications.telegram_support import ask as _ask

pytestmark = pytest.mark.django_db


def _answers(fake_tg: FakeTelegram) -> list[str]:
    return [c.params["text"] for c in fake_tg.calls_of("answerCallbackQuery")]


def test_it_answers_a_press_on_an_unknown_approval_and_changes_nothing(
    org: Any, bot: NotificationChannel, fake_tg: FakeTelegram
) -> None:
    approval, msg = _ask(org, fake_tg)
    fake_tg.press(user_id=ALLOWED, data="mesa:approve:987654", message=msg)
    fake_tg.press(user_id=ALLOWED, data="mesa:approve:" + "9" * 40, message=msg)  # forged: no such row can exist

    assert poll_once() == 2

    assert _answers(fake_tg) == ["This approval no longer exists.", "Unknown button."]
    assert Approval.objects.get(pk=approval.pk).status == ApprovalStatus.PENDING
    assert fake_tg.calls_of("editMessageText") == []


def test_it_answers_a_press_on_a_deleted_approval_and_ignores_a_reply_to_it(
    org: Any, bot: NotificationChannel, fake_tg: FakeTelegram
) -> None:
    approval, msg = _ask(org, fake_tg)
    Approval.objects.filter(pk=approval.pk).delete()  # its issue or org went away: the row and its messages too
    assert not TelegramMessage.objects.exists()
    fake_tg.press(user_id=ALLOWED, data=f"mesa:reject:{approval.pk}", message=msg)
    fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="too risky", reply_to=msg)

    assert poll_once() == 2

    assert _answers(fake_tg) == ["This approval no longer exists."]
    assert len(fake_tg.calls_of("sendMessage")) == 1  # only the original approval message: no reply to the reply
    assert fake_tg.calls_of("editMessageText") == []


def test_it_never_decides_another_orgs_approval_from_this_orgs_bot(
    org: Any, bot: NotificationChannel, fake_tg: FakeTelegram
) -> None:
    other = make_org(slug="other", issue_prefix="OTH")
    theirs = approval_create(actor=SYSTEM, org=other, title="Their deploy")
    _, msg = _ask(org, fake_tg)
    fake_tg.press(user_id=ALLOWED, data=f"mesa:approve:{theirs.pk}", message=msg)

    poll_once()

    assert _answers(fake_tg) == ["This approval no longer exists."]
    assert Approval.objects.get(pk=theirs.pk).status == ApprovalStatus.PENDING


def test_it_handles_the_updates_after_one_that_fails(org: Any, bot: NotificationChannel, fake_tg: FakeTelegram) -> None:
    approval, msg = _ask(org, fake_tg)
    fake_tg.fail_next(
        "answerCallbackQuery", 400, {"ok": False, "error_code": 400, "description": "Bad Request: query is too old"}
    )
    fake_tg.press(user_id=ALLOWED, data=f"mesa:approve:{approval.pk}", message=msg)
    fake_tg.push_update({"message_reaction": {"chat": {"id": CHAT, "type": "group"}, "message_id": 1, "date": 0}})
    last = fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="/help")

    assert poll_once() == 3
    assert poll_once() == 0  # all three confirmed: none comes back

    assert Approval.objects.get(pk=approval.pk).status == ApprovalStatus.APPROVED  # the decision was made
    assert fake_tg.calls_of("sendMessage")[-1].params["text"] == HELP
    bot.refresh_from_db()
    assert bot.poll_offset == last["update_id"] + 1


def test_it_answers_help_start_and_help_addressed_to_the_bot(
    org: Any, bot: NotificationChannel, fake_tg: FakeTelegram
) -> None:
    for text in ("/help", "/start", "/help@mesa_test_bot", "/HELP extra words"):
        fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text=text)

    assert poll_once() == 4

    replies = fake_tg.calls_of("sendMessage")
    assert [c.params["text"] for c in replies] == [HELP] * 4
    assert {int(c.params["chat_id"]) for c in replies} == {CHAT}
    assert all(line in HELP for line in ("/status", "/approvals", "/pause", "/resume", "Reply to an approval"))


def test_it_cuts_an_over_long_reply_to_what_telegram_accepts(
    org: Any, bot: NotificationChannel, fake_tg: FakeTelegram
) -> None:
    fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="/" + "x" * 5000)  # echoed in "Unknown command /..."

    poll_once()

    [reply] = fake_tg.calls_of("sendMessage")
    text = reply.params["text"]
    assert text.startswith("Unknown command /xxx") and text.endswith("…")
    assert len(text.encode("utf-16-le")) // 2 == TELEGRAM_TEXT_MAX


def test_it_counts_telegram_characters_in_utf16_when_cutting() -> None:
    assert fit_text("short") == "short"
    assert fit_text("a" * TELEGRAM_TEXT_MAX) == "a" * TELEGRAM_TEXT_MAX
    emoji = fit_text("😀" * TELEGRAM_TEXT_MAX)  # each one is two UTF-16 units for Telegram
    assert emoji == "😀" * (TELEGRAM_TEXT_MAX // 2 - 1) + "…"
    assert len(emoji.encode("utf-16-le")) // 2 <= TELEGRAM_TEXT_MAX


def test_it_polls_with_a_changed_token_at_once(org: Any, settings: Any) -> None:
    fake = FakeTelegram(tokens={"123:OLD", "456:NEW"}).start()
    try:
        channel, _ = telegram_configure(
            actor=SYSTEM,
            org=org,
            token="123:OLD",
            chat_id=str(CHAT),
            allowed_user_ids=str(ALLOWED),
            base_url=fake.base_url,
        )
        poller = Poller()
        poller.poll_once()
        assert {c.token for c in fake.calls} == {"123:OLD"}

        channel, _ = telegram_configure(
            actor=SYSTEM,
            org=org,
            token="456:NEW",
            chat_id=str(CHAT),
            allowed_user_ids=str(ALLOWED),
            base_url=fake.base_url,
        )
        fake.tokens.discard("123:OLD")  # the old token was revoked in BotFather
        fake.calls.clear()
        fake.message(user_id=ALLOWED, chat_id=CHAT, text="/help")

        assert poller.poll_once() == 1

        assert {c.token for c in fake.calls} == {"456:NEW"}
        channel.refresh_from_db()
        assert channel.last_error == ""
        poller.close()
    finally:
        fake.stop()


def test_it_polls_again_once_a_refused_token_is_replaced(org: Any, fake_tg: FakeTelegram) -> None:
    channel, _ = telegram_configure(
        actor=SYSTEM,
        org=org,
        token="999:WRONG",
        chat_id=str(CHAT),
        allowed_user_ids=str(ALLOWED),
        base_url=fake_tg.base_url,
    )
    poller = Poller()
    assert poller.poll_once() == 0
    refused = len(fake_tg.calls)
    assert poller.poll_once() == 0 and len(fake_tg.calls) == refused  # not hammered

    telegram_configure(
        actor=SYSTEM,
        org=org,
        token="123:GOOD",
        chat_id=str(CHAT),
        allowed_user_ids=str(ALLOWED),
        base_url=fake_tg.base_url,
    )
    fake_tg.message(user_id=ALLOWED, chat_id=CHAT, text="/help")

    assert poller.poll_once() == 1
    channel.refresh_from_db()
    assert channel.last_error == "" and fake_tg.calls[-1].token == "123:GOOD"
    poller.close()


@pytest.fixture
def two_bots(org: Any) -> Iterator[tuple[Any, FakeTelegram, Any, FakeTelegram]]:
    """Two orgs, each with its own bot (its own token and Bot API) and its own chat."""
    other = make_org(name="Globex", slug="globex", issue_prefix="GLX")
    fake_a, fake_b = FakeTelegram(tokens={"111:AAA"}).start(), FakeTelegram(tokens={"222:BBB"}).start()
    telegram_configure(
        actor=SYSTEM, org=org, token="111:AAA", chat_id="-1001", allowed_user_ids=str(ALLOWED), base_url=fake_a.base_url
    )
    telegram_configure(
        actor=SYSTEM, org=other, token="222:BBB", chat_id="-1002", allowed_user_ids="222", base_url=fake_b.base_url
    )
    yield org, fake_a, other, fake_b
    fake_a.stop()
    fake_b.stop()


def test_it_serves_each_orgs_bot_with_its_own_org_and_users(two_bots: Any) -> None:
    acme, fake_a, globex, fake_b = two_bots
    fake_a.message(user_id=ALLOWED, chat_id=-1001, text="/status")
    fake_b.message(user_id=222, chat_id=-1002, text="/status")
    fake_b.message(user_id=ALLOWED, chat_id=-1002, text="/status")  # allowed in Acme's bot, not in Globex's

    poller = Poller()
    assert poller.poll_once() == 3
    poller.close()

    [a] = fake_a.calls_of("sendMessage")
    assert a.token == "111:AAA" and a.params["text"].startswith("Acme\n")
    b_ok, b_refused = fake_b.calls_of("sendMessage")
    assert b_ok.token == "222:BBB" and b_ok.params["text"].startswith("Globex\n")
    assert b_refused.params["text"].startswith("You are not allowed to use this bot.")


def test_it_takes_turns_with_short_polls_when_several_bots_run(two_bots: Any) -> None:
    _, fake_a, _, fake_b = two_bots
    poller = Poller()

    _cycle(poller, threading.Event(), long_timeout=25)
    poller.close()

    # One bot may hold a 25 s long poll; two would starve each other, so each gets a short one.
    assert [c.params.get("timeout") for c in fake_a.calls_of("getUpdates")] == ["1"]
    assert [c.params.get("timeout") for c in fake_b.calls_of("getUpdates")] == ["1"]

"""Telegram: messages through the Bot API (python-telegram-bot), approvals with inline buttons.

Config: ``chat_id`` (a number or @channel), ``allowed_user_ids`` (who may press
buttons and use commands), ``base_url`` (the Bot API server root; Telegram's by
default, a self-hosted server or a test fake otherwise). The bot token is the secret.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from notifications.messages import is_public_url, render
from notifications.models import APPROVAL_RESOLVED_KIND, EventKind
from notifications.telegram_client import DEFAULT_BASE_URL, TelegramCallError, TelegramClient
from notifications.transports.base import SendResult, Transport, require_http_url
from orgs.errors import InvalidInput

if TYPE_CHECKING:
    from notifications.models import Delivery, NotificationChannel

TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{2,}$")
CHAT_RE = re.compile(r"^(-?\d{1,20}|@[A-Za-z0-9_]{4,})$")


def parse_user_ids(value: Any) -> list[int]:
    """'1, 2' or [1, "2"] → [1, 2]; anything that is not a number is refused."""
    items = value if isinstance(value, list | tuple) else re.split(r"[\s,;]+", str(value or ""))
    ids: list[int] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        if not re.fullmatch(r"\d{1,20}", text):
            raise InvalidInput(
                f"{text!r} is not a Telegram user id (a number; ask @userinfobot).", field="allowed_user_ids"
            )
        if int(text) not in ids:
            ids.append(int(text))
    return ids


class TelegramTransport(Transport):
    kind = "telegram"
    secret_label = "Bot token"

    def clean_config(self, config: dict[str, Any]) -> dict[str, Any]:
        chat_id = str(config.get("chat_id", "")).strip()
        if not CHAT_RE.match(chat_id):
            raise InvalidInput("The chat id is a number (e.g. -1001234567890) or @channelname.", field="chat_id")
        allowed = parse_user_ids(config.get("allowed_user_ids", []))
        if not allowed:
            raise InvalidInput(
                "Name at least one Telegram user id allowed to decide (nobody else can press the buttons).",
                field="allowed_user_ids",
            )
        base_url = (config.get("base_url") or "").strip() or DEFAULT_BASE_URL
        base_url = require_http_url(base_url, field="base_url", label="The Bot API base URL").rstrip("/")
        return {"chat_id": chat_id, "allowed_user_ids": allowed, "base_url": base_url}

    def clean_secret(self, secret: str) -> str:
        secret = secret.strip()
        if not TOKEN_RE.match(secret):
            raise InvalidInput("A bot token looks like 123456789:AA… (from @BotFather).", field="secret")
        return secret

    def send(self, *, channel: NotificationChannel, delivery: Delivery) -> SendResult:
        # python-telegram-bot is heavy: load it on the first Telegram delivery, not with the registry.
        from notifications import telegram_bot

        client = TelegramClient(channel.secret, channel.config.get("base_url") or DEFAULT_BASE_URL)
        try:
            if delivery.kind in (EventKind.APPROVAL_REQUESTED, APPROVAL_RESOLVED_KIND):
                done = telegram_bot.deliver_approval(client=client, channel=channel, delivery=delivery)
                return SendResult(ok=True, status_code=200, error="" if done else "Nothing to do.")
            message = render(delivery.kind, delivery.payload)
            text = f"{message.title}\n{message.text}"
            if message.url and not is_public_url(message.url):
                text += f"\n{message.url}"
            markup = telegram_bot.open_button(message.url) if message.url and is_public_url(message.url) else None
            client.send_message(chat_id=channel.config["chat_id"], text=text[:4096], reply_markup=markup)
            return SendResult(ok=True, status_code=200)
        except TelegramCallError as exc:
            return SendResult(
                ok=False,
                status_code=exc.status,
                error=exc.message,
                retryable=exc.retryable,
                retry_after=exc.retry_after,
            )
        finally:
            client.close()


TRANSPORT = TelegramTransport()

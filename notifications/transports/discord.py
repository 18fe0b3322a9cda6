"""Discord webhook: an embed per notification. The webhook URL is the secret."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from notifications.messages import render
from notifications.transports.base import SendResult, Transport, post_json, require_http_url

if TYPE_CHECKING:
    from notifications.models import Delivery, NotificationChannel


class DiscordTransport(Transport):
    kind = "discord"
    secret_label = "Discord webhook URL"

    def clean_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return {}

    def clean_secret(self, secret: str) -> str:
        return require_http_url(secret, field="secret", label="The Discord webhook URL")

    def send(self, *, channel: NotificationChannel, delivery: Delivery) -> SendResult:
        message = render(delivery.kind, delivery.payload)
        embed: dict[str, Any] = {"title": message.title[:256], "description": message.text[:4000], "color": 0x5865F2}
        if message.url:
            embed["url"] = message.url
        body = json.dumps({"embeds": [embed], "allowed_mentions": {"parse": []}}).encode()
        return post_json(channel.secret, body, secret=channel.secret)


TRANSPORT = DiscordTransport()

"""Slack incoming webhook: mrkdwn text. The webhook URL is the secret."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from notifications.messages import render
from notifications.transports.base import SendResult, Transport, post_json, require_http_url

if TYPE_CHECKING:
    from notifications.models import Delivery, NotificationChannel


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackTransport(Transport):
    kind = "slack"
    secret_label = "Slack incoming webhook URL"

    def clean_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return {}

    def clean_secret(self, secret: str) -> str:
        return require_http_url(secret, field="secret", label="The Slack webhook URL")

    def send(self, *, channel: NotificationChannel, delivery: Delivery) -> SendResult:
        message = render(delivery.kind, delivery.payload)
        text = f"*{_escape(message.title)}*\n{_escape(message.text)}"
        if message.url:
            text += f"\n<{message.url}|Open in Mesa>"
        body = json.dumps({"text": text}).encode()
        return post_json(channel.secret, body, secret=channel.secret)


TRANSPORT = SlackTransport()

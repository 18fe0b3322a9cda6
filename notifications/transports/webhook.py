"""Generic webhook: a JSON body signed with HMAC-SHA256 over ``<timestamp>.<body>``.

Headers: ``X-Mesa-Event`` (kind), ``X-Mesa-Delivery`` (delivery uuid, stable across
retries so receivers can de-duplicate), ``X-Mesa-Timestamp`` (unix seconds) and
``X-Mesa-Signature: sha256=<hex>``. Receivers recompute
``hmac_sha256(secret, f"{timestamp}.{raw_body}")`` and reject old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

from notifications.messages import render
from notifications.transports.base import SendResult, Transport, post_json, require_http_url
from orgs.errors import InvalidInput

if TYPE_CHECKING:
    from notifications.models import Delivery, NotificationChannel


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookTransport(Transport):
    kind = "webhook"
    secret_label = "Signing secret (HMAC-SHA256 key)"

    def clean_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return {"url": require_http_url(config.get("url", ""), field="url", label="The webhook URL")}

    def clean_secret(self, secret: str) -> str:
        secret = secret.strip()
        if len(secret) < 16:
            raise InvalidInput("The signing secret must be at least 16 characters.", field="secret")
        return secret

    def send(self, *, channel: NotificationChannel, delivery: Delivery) -> SendResult:
        message = render(delivery.kind, delivery.payload)
        body = json.dumps(
            {
                "id": str(delivery.uid),
                "kind": delivery.kind,
                "org": channel.org.slug,
                "created_at": delivery.created_at.isoformat(),
                "title": message.title,
                "text": message.text,
                "url": message.url,
                "payload": delivery.payload,
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "X-Mesa-Event": delivery.kind,
            "X-Mesa-Delivery": str(delivery.uid),
            "X-Mesa-Timestamp": timestamp,
            "X-Mesa-Signature": sign(channel.secret, timestamp, body),
        }
        return post_json(channel.config.get("url", ""), body, headers=headers)


TRANSPORT = WebhookTransport()

"""The notifier interface every transport implements, and the HTTP plumbing webhooks share."""

from __future__ import annotations

import email.utils
import json
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from django.conf import settings

from orgs.errors import InvalidInput

if TYPE_CHECKING:
    from notifications.models import Delivery, NotificationChannel


@dataclass(frozen=True)
class SendResult:
    """What one attempt achieved. ``retryable`` failures are tried again (after ``retry_after`` if given)."""

    ok: bool
    status_code: int | None = None
    error: str = ""
    retryable: bool = False
    retry_after: float | None = None


class Transport(ABC):
    """One way of delivering a notification (Telegram, Discord, Slack, a generic webhook)."""

    kind: ClassVar[str]
    # Help text for the Settings form: what the secret field holds for this kind.
    secret_label: ClassVar[str] = "Secret"

    @abstractmethod
    def clean_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Validate and normalise the non-secret settings; raise InvalidInput(field=...) on bad input."""

    def clean_secret(self, secret: str) -> str:
        """Validate a newly entered secret (never called with the stored one)."""
        return secret.strip()

    @abstractmethod
    def send(self, *, channel: NotificationChannel, delivery: Delivery) -> SendResult:
        """Make one attempt. Must not raise for transport failures: return a failed SendResult."""


def require_http_url(value: str, *, field: str, label: str) -> str:
    value = (value or "").strip()
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise InvalidInput(f"{label} must be an http(s) URL.", field=field)
    return value


def parse_retry_after(value: str | None) -> float | None:
    """A Retry-After header: delta seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def post_json(url: str, body: bytes, *, headers: dict[str, str] | None = None, secret: str = "") -> SendResult:
    """POST a JSON body and classify the answer: 2xx ok, 429 / 5xx / network retryable, other 4xx permanent.

    ``secret`` is scrubbed from any error text (a Discord/Slack URL is itself the secret).
    """
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Mesa-Notifier/1", **(headers or {})},
    )
    timeout = float(getattr(settings, "MESA_NOTIFY_TIMEOUT_S", 10))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # http(s) checked on save
            return SendResult(ok=True, status_code=response.status)
    except urllib.error.HTTPError as exc:
        code = exc.code
        raw = exc.read()[:2000]
        retry_after = parse_retry_after(exc.headers.get("Retry-After")) if exc.headers else None
        try:
            data = json.loads(raw or b"null")
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("retry_after"), int | float):
            # Discord answers 429 with {"retry_after": seconds} in the body.
            retry_after = float(data["retry_after"])
        text = raw.decode("utf-8", "replace").strip()
        error = f"HTTP {code}" + (f": {text[:300]}" if text else "")
        return SendResult(
            ok=False,
            status_code=code,
            error=scrub(error, secret),
            retryable=code == 429 or code >= 500,
            retry_after=retry_after if code == 429 or code == 503 else None,
        )
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return SendResult(ok=False, error=scrub(f"Network error: {reason}", secret), retryable=True)


def scrub(text: str, secret: str) -> str:
    """Never let a secret reach the database or the page through an error message."""
    if secret and len(secret) >= 4:
        text = text.replace(secret, "<secret>")
    return text

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest
from django.test import Client

from hooks.models import Hook
from hooks.services import hook_create
from orgs.actors import Actor

BOARD = Actor.human(label="board")


def github_headers(body: bytes, secret: str, *, event: str, delivery: str | None = None) -> dict[str, Any]:
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "HTTP_X_GITHUB_EVENT": event,
        "HTTP_X_GITHUB_DELIVERY": delivery or str(uuid.uuid4()),
        "HTTP_X_HUB_SIGNATURE_256": sig,
        "HTTP_USER_AGENT": "GitHub-Hookshot/044aadd",
    }


def post(client: Client, hook: Hook, payload: dict[str, Any], **headers: Any) -> Any:
    body = json.dumps(payload).encode()
    url = f"/hooks/{hook.org.slug}/{hook.source}/{hook.public_id}"
    return client.post(url, data=body, content_type="application/json", **headers)


@pytest.fixture
def github_hook(org: Any) -> tuple[Hook, str]:
    return hook_create(actor=BOARD, org=org, source="github", name="gh")

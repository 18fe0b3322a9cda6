"""Who sent a delivery: each source's signature check, its delivery id and its event name.

One small function per source, chosen by name; every comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

# Headers never stored with a delivery, whatever the source (the generic hook's own header is added).
SECRET_HEADERS = frozenset(
    {"x-hub-signature", "x-hub-signature-256", "x-gitlab-token", "authorization", "cookie", "proxy-authorization"}
)


def _hmac_ok(secret: str, body: bytes, given: str) -> bool:
    given = given.strip()
    if given.lower().startswith("sha256="):
        given = given[7:]
    if not given:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.lower())


def verify(source: str, *, secret: str, body: bytes, headers: Mapping[str, str], signature_header: str) -> bool:
    """Whether ``body`` was sent by someone holding ``secret``; a missing header is a failure."""
    if not secret:
        return False
    if source == "github":
        return _hmac_ok(secret, body, headers.get("X-Hub-Signature-256", ""))
    if source == "gitlab":
        # GitLab sends the secret token itself, not a signature.
        return hmac.compare_digest(secret.encode(), headers.get("X-Gitlab-Token", "").encode())
    return _hmac_ok(secret, body, headers.get(signature_header or "X-Signature-256", ""))


def delivery_id(source: str, *, body: bytes, headers: Mapping[str, str], delivery_header: str) -> str:
    """The provider's id of this delivery; a hash of the body when the provider sent none."""
    name = {"github": "X-GitHub-Delivery", "gitlab": "X-Gitlab-Event-UUID"}.get(source, delivery_header)
    given = headers.get(name or "X-Delivery-Id", "").strip()
    return given[:200] if given else "sha256:" + hashlib.sha256(body).hexdigest()


def event_names(source: str, *, headers: Mapping[str, str], payload: Mapping[str, Any]) -> list[str]:
    """The names a rule can match, most general first: ``["issues", "issues.opened"]``."""
    if source == "github":
        base = headers.get("X-GitHub-Event", "").strip()
        action = payload.get("action")
    elif source == "gitlab":
        # object_kind is "issue", "note", "merge_request", "pipeline", "push"...; the header says "Issue Hook".
        base = str(payload.get("object_kind") or payload.get("event_type") or "")
        attrs = payload.get("object_attributes")
        action = attrs.get("action") if isinstance(attrs, Mapping) else None
    else:
        base = str(payload.get("event") or payload.get("type") or "")
        action = payload.get("action")
    names = [base] if base else []
    if base and isinstance(action, str) and action:
        names.append(f"{base}.{action}")
    return names


def scrub(headers: Mapping[str, str], *, extra_secret_header: str = "") -> dict[str, str]:
    """The headers worth keeping, without any that carry a secret."""
    secret = SECRET_HEADERS | ({extra_secret_header.lower()} if extra_secret_header else set())
    return {k: ("[scrubbed]" if k.lower() in secret else v[:500]) for k, v in headers.items()}

"""Minting, checking and revoking API keys.

A key is ``mesa_<kind>_<secret>`` with 32 random bytes of secret. It is shown
once; the database keeps its SHA-256 and the first characters as a prefix.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from agents.models import Agent, ApiKey, KeyKind
from orgs.actors import Actor
from orgs.compiled import compiled_models
from orgs.errors import InvalidInput
from orgs.models import Org
from orgs.services import activity_record

PREFIX_LEN = 14
# last_used_at is written at most this often, so reads stay reads.
TOUCH_EVERY = timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _mint(kind: str) -> str:
    return f"mesa_{kind}_{secrets.token_urlsafe(32)}"


@transaction.atomic
def key_create(
    *,
    actor: Actor,
    org: Org,
    kind: str,
    agent: Agent | None = None,
    run_id: int | None = None,
    expires_in: timedelta | None = None,
    name: str = "",
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret (the only time the secret exists)."""
    if kind not in KeyKind.values:
        raise InvalidInput(f"Unknown key kind {kind!r}.", field="kind")
    if kind == KeyKind.BOARD and agent is not None:
        raise InvalidInput("Board keys do not belong to an agent.", field="agent")
    if kind != KeyKind.BOARD and agent is None:
        raise InvalidInput(f"A {kind} key needs an agent.", field="agent")
    if agent is not None and agent.org_id != org.pk:
        raise InvalidInput("The agent belongs to another org.", field="agent")
    raw = _mint(kind)
    key = ApiKey.objects.create(
        org=org,
        kind=kind,
        agent=agent,
        run_id=run_id,
        name=name[:100],
        prefix=raw[:PREFIX_LEN],
        digest=digest(raw),
        expires_at=timezone.now() + expires_in if expires_in else None,
    )
    if kind != KeyKind.RUN:  # run keys are minted per run; the run itself is the record
        activity_record(
            org=org, actor=actor, verb="created key", obj=key, object_repr=f"{kind} key {key.prefix}…", publish=False
        )
    return key, raw


def run_key_create(*, org: Org, agent: Agent, run_id: int, timeout_s: int) -> str:
    """A key for one run of one agent; it expires with the run's timeout (plus a minute)."""
    _, raw = key_create(
        actor=Actor.system("scheduler"),
        org=org,
        kind=KeyKind.RUN,
        agent=agent,
        run_id=run_id,
        expires_in=timedelta(seconds=timeout_s + 60),
        name=f"run {run_id}",
    )
    return raw


def run_keys_revoke(*, run_id: int) -> int:
    return ApiKey.objects.filter(run_id=run_id, revoked_at__isnull=True).update(revoked_at=timezone.now())


def key_revoke(*, actor: Actor, key: ApiKey) -> None:
    if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        activity_record(
            org=key.org, actor=actor, verb="revoked key", obj=key, object_repr=f"{key.kind} key {key.prefix}…"
        )


# Every API request reads its key: compiled once (orgs/compiled.py). The agent's encrypted env is left
# out (deferred): decrypting it on every request cost more than the query, and a request that needs it
# reads it then.
_key_by_digest = compiled_models(
    lambda value: ApiKey.objects.select_related("org", "agent").defer("agent__env").filter(digest=value).order_by()[:1]
)


def key_lookup(raw: str) -> ApiKey | None:
    """The live key for ``raw`` (not expired, not revoked), with its org and agent loaded."""
    if not raw.startswith("mesa_") or len(raw) > 200:
        return None
    # digest is unique: no ORDER BY. The agent's org is the key's org (key_create checks), so no second join.
    found = _key_by_digest(digest(raw))
    key = found[0] if found else None
    if key is None or key.revoked_at is not None:
        return None
    if key.agent is not None:
        key.agent.org = key.org
    now = timezone.now()
    if key.expires_at is not None and key.expires_at <= now:
        return None
    if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``45m`` or ``90s`` → timedelta."""
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    text = (text or "").strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit() or int(text[:-1]) <= 0:
        raise InvalidInput("Durations look like 30d, 12h, 45m or 90s.", field="expires")
    return timedelta(**{units[text[-1]]: int(text[:-1])})

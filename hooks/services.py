"""Writes of the hooks app: hooks and their secrets, rules, receiving and (re)processing deliveries.

The receiver answers the provider; everything it decides is written to the pipeline log
(:func:`log`), including refusals, so the Logs page tells each delivery's story.
"""

from __future__ import annotations

import json
import secrets as pysecrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import Agent
from hooks import hydration, signatures
from hooks.matching import facts_of, why_not
from hooks.models import (
    Action,
    Delivery,
    DeliveryStatus,
    ExternalLink,
    Hook,
    LogEntry,
    LogKind,
    Rule,
    Source,
)
from hooks.secrets import hint, seal, unseal
from hooks.templating import render
from issues.comments import do_comment_create
from issues.models import Issue
from issues.services import issue_create
from orgs.actors import Actor
from orgs.errors import Forbidden, InvalidInput, MesaError
from orgs.events import EventType, event_publish
from orgs.models import Org
from runners.forges import ForgeError
from runners.services import run_enqueue


def log(*, org: Org, kind: str, message: str, **refs: Any) -> LogEntry:
    """One pipeline step, stored and published live (``hook_log``).

    ``refs``: any of hook, delivery, rule, agent, issue, data.
    """
    entry = LogEntry.objects.create(org=org, kind=kind, message=message[:500], **refs)
    event_publish(org=org, type=EventType.HOOK_LOG, data={"id": entry.pk, "kind": kind, "message": entry.message})
    return entry


def _board(actor: Actor, what: str) -> None:
    if actor.agent is not None or not actor.board:
        raise Forbidden(f"Only the board may {what}.", code="board_only")


# -- hooks -----------------------------------------------------------------------------------------


@transaction.atomic
def hook_create(
    *,
    actor: Actor,
    org: Org,
    source: str,
    name: str,
    secret: str = "",
    signature_header: str = "",
    delivery_header: str = "",
    rate_limit_per_minute: int = 60,
    api_url: str = "",
    token: str = "",
) -> tuple[Hook, str]:
    """A new hook and its clear secret (generated unless given): the only time the secret is returned."""
    _board(actor, "create hooks")
    if source not in Source.values:
        raise InvalidInput(f"Unknown source {source!r}; sources are {', '.join(Source.values)}.", field="source")
    name = name.strip()
    if not name:
        raise InvalidInput("A hook needs a name.", field="name")
    clear = secret or pysecrets.token_urlsafe(32)
    hook = Hook.objects.create(
        org=org,
        source=source,
        name=name[:100],
        secret_sealed=seal(clear),
        secret_hint=hint(clear),
        signature_header=signature_header or "X-Signature-256",
        delivery_header=delivery_header or "X-Delivery-Id",
        rate_limit_per_minute=max(1, rate_limit_per_minute),
        api_url=api_url.strip(),
        token_sealed=seal(token.strip()),
    )
    return hook, clear


@transaction.atomic
def hook_rotate_secret(*, actor: Actor, hook: Hook, secret: str = "") -> str:
    """Replace the hook's secret; the old one stops verifying at once. Returns the new clear secret."""
    _board(actor, "rotate hook secrets")
    clear = secret or pysecrets.token_urlsafe(32)
    Hook.objects.filter(pk=hook.pk).update(secret_sealed=seal(clear), secret_hint=hint(clear))
    hook.refresh_from_db()
    return clear


@transaction.atomic
def hook_set_enabled(*, actor: Actor, hook: Hook, enabled: bool) -> Hook:
    """Turn a hook off (its URL answers 404 and nothing is stored) or back on."""
    _board(actor, "turn hooks on or off")
    Hook.objects.filter(pk=hook.pk).update(enabled=enabled)
    hook.refresh_from_db()
    return hook


# -- rules -----------------------------------------------------------------------------------------


@transaction.atomic
def rule_create(
    *,
    actor: Actor,
    org: Org,
    name: str,
    source: str,
    events: list[str],
    filters: Mapping[str, Any] | None = None,
    action: str = Action.CREATE_ISSUE,
    title_template: str = "",
    body_template: str = "",
    assignee: Agent | None = None,
    labels: list[str] | None = None,
    priority: int = 0,
    position: int | None = None,
    hydrate: bool = False,
) -> Rule:
    """A rule appended to the org's order (or at ``position``)."""
    _board(actor, "create rules")
    if source not in Source.values:
        raise InvalidInput(f"Unknown source {source!r}.", field="source")
    if action not in Action.values:
        raise InvalidInput(f"Unknown action {action!r}.", field="action")
    if not events:
        raise InvalidInput("A rule needs at least one event name.", field="events")
    if action == Action.START_RUN and assignee is None:
        raise InvalidInput("A rule that starts a run needs the agent (assignee).", field="assignee")
    if assignee is not None and assignee.org_id != org.pk:
        raise InvalidInput("The assignee is not in this org.", field="assignee")
    known = {"labels_contain", "branch_glob", "path_glob", "author_not_bot", "repository", "conclusion"}
    unknown = set(filters or {}) - known
    if unknown:
        raise InvalidInput(f"Unknown filter(s): {', '.join(sorted(unknown))}.", field="filters")
    if position is None:
        last = Rule.objects.filter(org=org).order_by("-position").values_list("position", flat=True).first()
        position = (last or 0) + 1
    return Rule.objects.create(
        org=org,
        name=name.strip()[:100] or "rule",
        source=source,
        events=list(events),
        filters=dict(filters or {}),
        action=action,
        title_template=title_template or "{{ issue.title }}{{ pull_request.title }}",
        body_template=body_template,
        assignee=assignee,
        labels=list(labels or []),
        priority=priority,
        position=position,
        hydrate=hydrate,
    )


# -- receiving ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the receiver tells the provider."""

    status: int
    body: dict[str, Any]


def _parse(body: bytes, content_type: str) -> dict[str, Any]:
    if content_type.startswith("application/x-www-form-urlencoded"):
        # GitHub's "application/x-www-form-urlencoded" content type: the JSON is in the payload field.
        fields = parse_qs(body.decode("utf-8", errors="replace"))
        body = (fields.get("payload") or ["{}"])[0].encode()
    data = json.loads(body or b"{}")
    if not isinstance(data, dict):
        raise ValueError("the payload is not a JSON object")
    return data


def receive(*, hook: Hook, body: bytes, headers: Mapping[str, str], now: Any = None) -> Answer:
    """Verify, deduplicate, rate-limit, store and process one delivery to ``hook``.

    A wrong or missing signature is refused (401) and only the refusal is logged: nothing else is
    stored and no rule runs. The same delivery id again answers 200 ``duplicate`` and does nothing.
    """
    org = hook.org
    secret = unseal(hook.secret_sealed)
    if not signatures.verify(
        hook.source, secret=secret, body=body, headers=headers, signature_header=hook.signature_header
    ):
        now = now or timezone.now()
        # A flood of unsigned posts must not fill the log: past the hook's rate, refusals go unlogged.
        refused = LogEntry.objects.filter(hook=hook, kind=LogKind.REFUSED, created_at__gte=now - timedelta(minutes=1))
        if refused.count() < hook.rate_limit_per_minute:
            log(org=org, kind=LogKind.REFUSED, message="Signature missing or wrong: delivery refused (401).", hook=hook)
        return Answer(401, {"error": "Signature missing or wrong.", "code": "bad_signature"})
    now = now or timezone.now()
    recent = Delivery.objects.filter(hook=hook, received_at__gte=now - timedelta(minutes=1)).count()
    if recent >= hook.rate_limit_per_minute:
        log(org=org, kind=LogKind.REFUSED, message="Rate limit reached: delivery refused (429).", hook=hook)
        return Answer(429, {"error": "Too many deliveries; slow down.", "code": "rate_limited"})
    try:
        payload = _parse(body, headers.get("Content-Type", ""))
    except ValueError as exc:
        log(org=org, kind=LogKind.REFUSED, message=f"Payload is not JSON: refused (400): {exc}", hook=hook)
        return Answer(400, {"error": "The payload is not a JSON object.", "code": "malformed_json"})
    did = signatures.delivery_id(hook.source, body=body, headers=headers, delivery_header=hook.delivery_header)
    events = signatures.event_names(hook.source, headers=headers, payload=payload)
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                org=org,
                hook=hook,
                delivery_id=did,
                event=events[-1] if events else "",
                headers=signatures.scrub(headers, extra_secret_header=hook.signature_header),
                payload=payload,
            )
    except IntegrityError:
        log(org=org, kind=LogKind.DUPLICATE, message=f"Delivery {did} already received: ignored.", hook=hook)
        return Answer(200, {"status": "duplicate", "delivery_id": did})
    log(
        org=org,
        kind=LogKind.RECEIVED,
        message=f"Delivery {did} received: {delivery.event or 'no event name'}.",
        hook=hook,
        delivery=delivery,
    )
    process(delivery=delivery)
    delivery.refresh_from_db()
    return Answer(202, {"status": delivery.status, "delivery_id": did})


def redeliver(*, actor: Actor, delivery: Delivery) -> Delivery:
    """Process a stored delivery again (after fixing a rule); creating is still once per external thing."""
    _board(actor, "redeliver")
    Delivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1, status=DeliveryStatus.RECEIVED)
    log(org=delivery.org, kind=LogKind.RECEIVED, message=f"Redelivered by {actor}.", hook=delivery.hook,
        delivery=delivery)  # fmt: skip
    process(delivery=delivery)
    delivery.refresh_from_db()
    return delivery


def process(*, delivery: Delivery) -> None:
    """Run the org's rules in order on ``delivery``: the first that fits acts; the others log why not."""
    hook, org = delivery.hook, delivery.org
    headers = delivery.headers or {}
    events = signatures.event_names(hook.source, headers=_Headers(headers), payload=delivery.payload)
    facts = facts_of(hook.source, delivery.payload)
    for rule in Rule.objects.filter(org=org, enabled=True).order_by("position", "id"):
        reason = why_not(rule, source=hook.source, events=events, facts=facts)
        if reason:
            log(org=org, kind=LogKind.RULE_SKIPPED, message=f"Rule {rule.name!r} did not match: {reason}.",
                hook=hook, delivery=delivery, rule=rule)  # fmt: skip
            continue
        log(org=org, kind=LogKind.RULE_MATCHED, message=f"Rule {rule.name!r} matched.", hook=hook,
            delivery=delivery, rule=rule)  # fmt: skip
        try:
            with transaction.atomic():
                _act(rule=rule, delivery=delivery, facts_key=facts.external_key, url=facts.url)
        except (MesaError, IntegrityError) as exc:
            # IntegrityError: another delivery about the same external thing linked it first; redeliver comments.
            error = exc.message if isinstance(exc, MesaError) else "created concurrently by another delivery"
            _finish(delivery, DeliveryStatus.FAILED, error)
            log(org=org, kind=LogKind.FAILED, message=f"Rule {rule.name!r} failed: {error}", hook=hook,
                delivery=delivery, rule=rule)  # fmt: skip
            return
        _finish(delivery, DeliveryStatus.MATCHED, "")
        return
    _finish(delivery, DeliveryStatus.IGNORED, "")


def _finish(delivery: Delivery, status: str, error: str) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(status=status, error=error[:2000])


class _Headers(dict[str, str]):
    """Stored headers read back case-insensitively, like the request's."""

    def get(self, key: str, default: Any = None) -> Any:
        lowered = key.lower()
        for k, v in self.items():
            if k.lower() == lowered:
                return v
        return default


def _context(rule: Rule, delivery: Delivery) -> dict[str, Any]:
    """The payload, plus ``diff``, ``files`` and ``head_sha`` when the rule hydrates (ForgeError → MesaError)."""
    context: dict[str, Any] = dict(delivery.payload)
    if not rule.hydrate:
        return context
    try:
        change = hydration.hydrate(delivery.hook, delivery.payload)
    except ForgeError as exc:
        raise MesaError(f"Hydration failed: {exc}", code="hydration_failed") from exc
    if change is not None:
        context.update(diff=change.diff, files="\n".join(change.files), head_sha=change.head_sha)
        cut = " (diff cut at the size cap)" if change.truncated else ""
        log(org=rule.org, kind=LogKind.HYDRATED, hook=delivery.hook, delivery=delivery, rule=rule,
            message=f"Fetched {len(change.files)} changed file(s) at {change.head_sha[:12]}{cut}.",
            data={"files": change.files[:100], "head_sha": change.head_sha})  # fmt: skip
    return context


def _act(*, rule: Rule, delivery: Delivery, facts_key: str, url: str) -> None:
    org, hook = rule.org, delivery.hook
    actor = Actor.system(f"hook:{hook.name}"[:100])
    link = (
        ExternalLink.objects.filter(org=org, source=hook.source, external_key=facts_key).first() if facts_key else None
    )
    if link is not None:
        # The same external thing again (an edit, a new push, a comment): one issue, a new comment.
        context = _context(rule, delivery)
        body = render(rule.body_template, context).strip() or f"{delivery.event} on {facts_key}"
        if url:
            body += f"\n\n{url}"
        do_comment_create(actor=actor, issue=link.issue, body=body)
        log(org=org, kind=LogKind.ISSUE_COMMENTED, message=f"Commented on {link.issue.key} ({delivery.event}).",
            hook=hook, delivery=delivery, rule=rule, issue=link.issue)  # fmt: skip
        return
    if rule.action == Action.START_RUN and rule.assignee is None:
        raise MesaError(f"Rule {rule.name!r} starts a run but names no agent.", code="no_agent")
    context = _context(rule, delivery)
    title = render(rule.title_template, context).strip()[:200] or f"{delivery.event} from {hook.name}"
    description = render(rule.body_template, context).strip()
    if url:
        description = f"{description}\n\nSource: {url}".strip()
    issue: Issue = issue_create(
        actor=actor,
        org=org,
        title=title,
        description=description,
        priority=rule.priority,
        labels=rule.labels,
        assignee=rule.assignee,
    )
    if facts_key:
        ExternalLink.objects.create(org=org, source=hook.source, external_key=facts_key, url=url[:500], issue=issue)
    log(org=org, kind=LogKind.ISSUE_CREATED, message=f"Created {issue.key}: {issue.title}", hook=hook,
        delivery=delivery, rule=rule, issue=issue, agent=rule.assignee)  # fmt: skip
    if rule.action == Action.START_RUN and rule.assignee is not None:
        # The templated prompt is the issue's description: the run's prompt carries it like any run's.
        queued = run_enqueue(agent=rule.assignee, issue=issue, reason=f"hook rule {rule.name}"[:200])
        log(org=org, kind=LogKind.RUN_QUEUED, message=f"Run {queued.run.pk} queued for @{rule.assignee.slug}.",
            hook=hook, delivery=delivery, rule=rule, issue=issue, agent=rule.assignee,
            data={"run": queued.run.pk})  # fmt: skip

"""Write-back through Mesa only: an agent's request, the output policy's verdict, then the forge call.

Mesa acts with its own token (the hook's sealed token); the agent never holds it, and only on
repositories this org's work came from (an issue linked to a delivery from there). Every allow and
every deny is logged with its reason; a deny raises Forbidden naming the rule that denied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from agents.models import Agent
from hooks.hydration import forge_of
from hooks.models import ExternalLink, Hook, LogKind, OutputPolicy
from hooks.services import log
from orgs.actors import Actor
from orgs.errors import Forbidden, InvalidInput, MesaError
from runners.forges import Forge, ForgeError

KINDS = ("comment", "labels", "status", "suggestion")


class ForgeFailed(MesaError):
    status = 502
    code = "forge_failed"


@dataclass(frozen=True)
class WriteBack:
    """One request: ``kind`` on ``repo``'s pull request (``on="pr"``) or issue ``number``."""

    kind: str
    source: str
    repo: str
    number: int = 0
    on: str = "pr"
    body: str = ""
    add_labels: list[str] = field(default_factory=list)
    remove_labels: list[str] = field(default_factory=list)
    sha: str = ""
    state: str = ""
    context: str = "mesa"
    path: str = ""
    line: int = 0
    suggestion: str = ""


def verdict(policy: OutputPolicy | None, req: WriteBack) -> tuple[str, str]:
    """("", reason) when allowed; (rule, reason) naming the policy rule that denies."""
    if policy is None:
        return "no_policy", "the agent has no output policy, so it may not write back"
    if req.kind == "comment":
        if not policy.comments_allowed:
            return "comments_allowed", "comments are not allowed"
        if len(req.body) > policy.max_comment_length:
            return (
                "max_comment_length",
                f"the comment is {len(req.body)} characters; at most {policy.max_comment_length}",
            )
        return "", f"comment of {len(req.body)} characters within {policy.max_comment_length}"
    if req.kind == "labels":
        denied = {x.lower() for x in policy.labels_denied or []}
        allowed = {x.lower() for x in policy.labels_allowed or []}
        for name in [*req.add_labels, *req.remove_labels]:
            if name.lower() in denied:
                return "labels_denied", f"label {name!r} is on the deny-list"
            if allowed and name.lower() not in allowed:
                return "labels_allowed", f"label {name!r} is not on the allow-list"
        return "", "every label is allowed"
    if req.kind == "status":
        return ("", "commit statuses are allowed") if policy.status_allowed else (
            "status_allowed", "commit statuses are not allowed")  # fmt: skip
    return ("", "suggestions are allowed") if policy.suggestions_allowed else (
        "suggestions_allowed", "suggestions are not allowed")  # fmt: skip


def _hook_for(agent: Agent, source: str) -> Hook:
    hook = Hook.objects.filter(org_id=agent.org_id, source=source, enabled=True).exclude(token_sealed="").first()
    if hook is None:
        raise InvalidInput(f"This org has no {source} hook with a token to write back with.", field="source")
    return hook


def writeback(*, agent: Agent, req: WriteBack) -> dict[str, str]:
    """Check ``req`` against ``agent``'s policy, then perform it on the forge. Returns ``{"url": ...}``.

    Raises Forbidden (code ``policy_denied``, ``rule``) on a deny, MesaError ``forge_failed`` when the
    forge refuses.
    """
    if req.kind not in KINDS:
        raise InvalidInput(f"Unknown kind {req.kind!r}; kinds are {', '.join(KINDS)}.", field="kind")
    hook = _hook_for(agent, req.source)
    policy = OutputPolicy.objects.filter(agent=agent).first()
    rule, reason = verdict(policy, req)
    known = ExternalLink.objects.filter(org_id=agent.org_id, source=req.source, external_key__startswith=f"{req.repo}#")
    if not rule and not known.exists():
        # Mesa's token may reach many repositories: write only where this org's work came from.
        rule, reason = "repository", f"no work of this org came from {req.repo}"
    target = f"{req.repo}#{req.number}" if req.number else f"{req.repo}@{req.sha[:12]}"
    data = {"kind": req.kind, "target": target, "rule": rule}
    with transaction.atomic():
        if rule:
            log(org=agent.org, kind=LogKind.POLICY_DENIED, hook=hook, agent=agent, data=data,
                message=f"Denied {req.kind} on {target} by rule {rule}: {reason}.")  # fmt: skip
        else:
            log(org=agent.org, kind=LogKind.POLICY_ALLOWED, hook=hook, agent=agent, data=data,
                message=f"Allowed {req.kind} on {target}: {reason}.")  # fmt: skip
    if rule:
        raise Forbidden(f"Denied by the output policy ({rule}): {reason}.", code="policy_denied", rule=rule)
    forge = forge_of(hook, repo=req.repo)
    try:
        url = _perform(forge, req)
    except ForgeError as exc:
        log(org=agent.org, kind=LogKind.FAILED, hook=hook, agent=agent, data=data,
            message=f"Write-back {req.kind} on {target} failed: {exc}")  # fmt: skip
        raise ForgeFailed(f"The forge refused: {exc}") from exc
    log(org=agent.org, kind=LogKind.WRITTEN_BACK, hook=hook, agent=agent, data={**data, "url": url},
        message=f"Wrote {req.kind} to {target}.")  # fmt: skip
    return {"url": url}


def _perform(forge: Forge, req: WriteBack) -> str:
    if req.kind == "comment":
        return forge.comment(number=req.number, body=req.body, on=req.on)
    if req.kind == "labels":
        forge.set_labels(number=req.number, add=req.add_labels, remove=req.remove_labels, on=req.on)
        return ""
    if req.kind == "status":
        forge.commit_status(sha=req.sha, state=req.state, context=req.context, description=req.body)
        return ""
    return forge.suggest(number=req.number, commit_sha=req.sha, path=req.path, line=req.line, body=req.body,
                         suggestion=req.suggestion)  # fmt: skip


@transaction.atomic
def policy_set(*, actor: Actor, agent: Agent, **fields: Any) -> OutputPolicy:
    """Create or replace ``agent``'s output policy (board only)."""
    if actor.agent is not None or not actor.board:
        raise Forbidden("Only the board may set output policies.", code="board_only")
    known = {f.name for f in OutputPolicy._meta.get_fields()} - {"id", "agent", "updated_at"}
    unknown = set(fields) - known
    if unknown:
        raise InvalidInput(f"Unknown policy field(s): {', '.join(sorted(unknown))}.", field="policy")
    policy, _ = OutputPolicy.objects.update_or_create(agent=agent, defaults=fields)
    return policy

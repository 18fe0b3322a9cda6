"""What a notification says: one rendering shared by every transport."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings

from notifications.models import APPROVAL_RESOLVED_KIND, TEST_KIND, EventKind


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    url: str = ""


def public_url(path: str) -> str:
    base = str(getattr(settings, "MESA_PUBLIC_URL", "http://127.0.0.1:3001")).rstrip("/")
    return f"{base}{path}"


def is_public_url(url: str) -> bool:
    """False for loopback URLs, which Telegram refuses in inline buttons."""
    host = (urlsplit(url).hostname or "").lower()
    return bool(host) and host not in {"localhost", "127.0.0.1", "::1", "0.0.0.0"} and not host.startswith("127.")


def approval_url(approval_id: Any) -> str:
    # The approvals inbox; each approval is an anchor on it.
    return public_url(f"/approvals/#approval-{approval_id}")


def issue_url(key: Any) -> str:
    return public_url(f"/issues/{quote(str(key))}/")


def _who(payload: dict[str, Any]) -> str:
    return str(payload.get("agent") or payload.get("agent_slug") or payload.get("requested_by") or "").strip()


def render(kind: str, payload: dict[str, Any]) -> Message:
    """Title, body and link for a delivery kind and its payload (missing keys degrade gracefully)."""
    p = payload
    issue_key = p.get("issue_key") or p.get("key") or ""
    if kind == EventKind.APPROVAL_REQUESTED or kind == APPROVAL_RESOLVED_KIND:
        lines = [f"Approval needed: {p.get('title', '')}"]
        if p.get("kind_label"):
            lines.append(f"Kind: {p['kind_label']}")
        if p.get("requested_by"):
            lines.append(f"Asked by: {p['requested_by']}")
        if issue_key:
            lines.append(f"Issue: {issue_key}")
        if p.get("reason"):
            lines.append(f"Why: {p['reason']}")
        return Message("Approval requested", "\n".join(lines), approval_url(p.get("approval_id", "")))
    if kind == EventKind.ISSUE_BLOCKED:
        failures = p.get("failures", p.get("attempts", "?"))
        text = f"Issue {issue_key} {p.get('title', '')} is blocked after {failures} failed runs."
        if p.get("reason"):
            text += f"\n{p['reason']}"
        return Message("Issue blocked", text.strip() + "\nIt needs a human.", issue_url(issue_key) if issue_key else "")
    if kind == EventKind.BUDGET_EXCEEDED:
        text = f"Budget exceeded{' for ' + _who(p) if _who(p) else ''}."
        if p.get("reason") or p.get("failure_reason"):
            text += f"\n{p.get('reason') or p.get('failure_reason')}"
        if issue_key:
            text += f"\nIssue: {issue_key}"
        return Message("Budget exceeded", text, issue_url(issue_key) if issue_key else "")
    if kind == EventKind.RUN_FAILED:
        text = f"Run {p.get('run_id', p.get('id', ''))} {p.get('status', 'failed')}"
        text += f" ({_who(p)})" if _who(p) else ""
        if issue_key:
            text += f" on {issue_key}"
        if p.get("reason") or p.get("failure_reason"):
            text += f"\n{p.get('reason') or p.get('failure_reason')}"
        return Message("Run failed", text, issue_url(issue_key) if issue_key else "")
    if kind == EventKind.WORK_BLOCK_READY:
        text = f"Work block “{p.get('title', '')}” is ready to ship."
        block_id = p.get("id") or p.get("work_block_id")
        return Message("Work block ready", text, public_url(f"/blocks/{block_id}/" if block_id else "/blocks/"))
    if kind == EventKind.AGENT_ERRORED:
        text = f"Agent {_who(p) or '?'} errored."
        if p.get("reason"):
            text += f"\n{p['reason']}"
        return Message("Agent errored", text, "")
    if kind == TEST_KIND:
        return Message("Test", str(p.get("text") or "Test notification from Mesa."), "")
    return Message(kind, str(p), "")

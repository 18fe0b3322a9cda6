"""Mesa's forge client for a hook, and hydration: a pull request's change, pinned to the payload's SHAs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from hooks.models import Hook
from hooks.secrets import unseal
from runners.forges import ChangeSet, Forge, forge_for

MAX_DIFF_BYTES = 60_000


def forge_of(hook: Hook, *, repo: str) -> Forge:
    """The forge client acting with Mesa's token for ``hook`` (its sealed token, else MESA_FORGE_TOKEN)."""
    token = unseal(hook.token_sealed) or str(getattr(settings, "MESA_FORGE_TOKEN", "") or "")
    return forge_for(hook.source, api_url=hook.api_url, repo=repo, token=token)


def _d(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def pinned_shas(source: str, payload: Mapping[str, Any]) -> tuple[str, str, str]:
    """(repository, base SHA, head SHA) of the pull / merge request in ``payload``; empty when there is none."""
    if source == "github":
        pr = _d(payload.get("pull_request"))
        repo = str(_d(payload.get("repository")).get("full_name") or "")
        return repo, str(_d(pr.get("base")).get("sha") or ""), str(_d(pr.get("head")).get("sha") or "")
    if source == "gitlab":
        attrs = _d(payload.get("object_attributes"))
        repo = str(_d(payload.get("project")).get("path_with_namespace") or "")
        diff_refs = _d(attrs.get("diff_refs"))
        head = str(diff_refs.get("head_sha") or _d(attrs.get("last_commit")).get("id") or "")
        return repo, str(diff_refs.get("base_sha") or ""), head
    return "", "", ""


def hydrate(hook: Hook, payload: Mapping[str, Any]) -> ChangeSet | None:
    """The change of the payload's pull request between its base and head SHAs; None when it has none.

    Raises ForgeError when the forge refuses or cannot be reached.
    """
    repo, base, head = pinned_shas(hook.source, payload)
    if not (repo and base and head):
        return None
    limit = int(getattr(settings, "MESA_HOOK_MAX_DIFF", MAX_DIFF_BYTES))
    return forge_of(hook, repo=repo).change_set(base_sha=base, head_sha=head, max_bytes=limit)

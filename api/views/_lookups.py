"""Resolving references in request bodies and query strings (slugs, keys, ids) within the caller's org.

A reference that does not resolve is a 400 naming the field (the request is
wrong), not a 404 (the URL is fine).
"""

from __future__ import annotations

from agents.selectors import agent_ref  # noqa: F401 - re-exported for the API views
from blocks.models import WorkBlock
from issues.models import Issue
from orgs.errors import InvalidInput
from orgs.models import Org


def issue_ref(org: Org, key: str | None, field: str) -> Issue | None:
    if not key:
        return None
    issue = Issue.objects.select_related("parent").filter(org=org, key=key.strip().upper()).first()
    if issue is None:
        raise InvalidInput(f"There is no issue {key!r} in this org.", field=field)
    return issue


def work_block_ref(org: Org, block_id: int | None, field: str) -> WorkBlock | None:
    if block_id is None:
        return None
    block = WorkBlock.objects.filter(org=org, pk=block_id).first()
    if block is None:
        raise InvalidInput(f"There is no work block {block_id} in this org.", field=field)
    return block

"""Permission-scoped reads of work blocks and apex blocks."""

from __future__ import annotations

from typing import Any

from blocks.models import ApexBlock, WorkBlock
from orgs.actors import Actor
from orgs.errors import NotFound
from orgs.models import Org
from orgs.numbers import row_id


def work_block_get_for(*, actor: Actor, org: Org, block_id: Any) -> WorkBlock:
    """Work block ``block_id`` of ``org`` (anyone in the org may read it), else NotFound.

    An agent of another org gets NotFound too, so ids of other orgs are not disclosed.
    """
    pk = row_id(block_id)
    if pk is None or not actor.belongs_to(org):
        raise NotFound(f"There is no work block {block_id}.")
    block = WorkBlock.objects.select_related("org", "apex_block").filter(org=org, pk=pk).first()
    if block is None:
        raise NotFound(f"There is no work block {block_id}.")
    return block


def apex_block_get_for(*, actor: Actor, org: Org, apex_id: Any) -> ApexBlock:
    """Apex block ``apex_id`` of ``org`` (anyone in the org may read it), else NotFound."""
    pk = row_id(apex_id)
    if pk is None or not actor.belongs_to(org):
        raise NotFound(f"There is no apex block {apex_id}.")
    apex = ApexBlock.objects.select_related("org").filter(org=org, pk=pk).first()
    if apex is None:
        raise NotFound(f"There is no apex block {apex_id}.")
    return apex

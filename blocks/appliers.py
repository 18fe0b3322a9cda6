"""Deciding a work block gate moves the block (registered in ``BlocksConfig.ready``)."""

from __future__ import annotations

from approvals.models import Approval, ApprovalStatus
from approvals.registry import stale
from blocks.services import work_block_transition
from orgs.actors import Actor


def _work_block(approval: Approval, actor: Actor, *, expected: str, on_approve: str, on_reject: str) -> None:
    block = approval.work_block
    if block is None:
        return
    block.refresh_from_db()
    if block.status != expected:
        raise stale(approval, f"work block {block.title!r} is {block.status}, not {expected}")
    to = on_approve if approval.status == ApprovalStatus.APPROVED else on_reject
    work_block_transition(actor=actor, block=block, to=to)


def work_block_activate(approval: Approval, actor: Actor) -> None:
    _work_block(approval, actor, expected="proposed", on_approve="active", on_reject="cancelled")


def work_block_ship(approval: Approval, actor: Actor) -> None:
    _work_block(approval, actor, expected="ready", on_approve="shipped", on_reject="active")

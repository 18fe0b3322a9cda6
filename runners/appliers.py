"""Deciding a budget raise (registered in ``RunnersConfig.ready``)."""

from __future__ import annotations

from approvals.models import Approval
from orgs.actors import Actor


def budget_raise(approval: Approval, actor: Actor) -> None:
    """Nothing to write: an approved raise counts toward the agent's budget for its day.

    ``runners.budget`` adds today's approved raises (payload ``tokens`` / ``cost_usd``) to
    the agent's daily limits, so the raise ends with the day.
    """

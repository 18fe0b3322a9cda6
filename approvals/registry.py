"""What deciding each kind of approval does: one applier per kind, registered by the app that owns the subject.

``approvals`` is generic: it never imports the apps whose objects it gates. Each of them
registers its applier in ``AppConfig.ready()`` (``issues/appliers.py``, ``blocks/appliers.py``,
...), so domain services may import ``approvals`` at the top and nothing loops back.

An applier receives the approval already marked approved or rejected and the deciding
actor, inside the deciding transaction. One that finds its subject moved on meanwhile (a
stale approval) raises ``stale(...)``, which rolls the decision back.
"""

from __future__ import annotations

from collections.abc import Callable

from approvals.models import Approval, ApprovalKind
from orgs.actors import Actor
from orgs.errors import Conflict
from orgs.lazy_views import load_by_name

Applier = Callable[[Approval, Actor], None]

# kind -> the applier, or its dotted path (imported at the first decision of that kind, so that start-up does
# not import every app's appliers and what they import).
APPLIERS: dict[str, Applier | str] = {}

# Gates only humans hold: agents (even the CEO) may ask but never decide these.
HUMAN_ONLY_KINDS: frozenset[str] = frozenset(
    {
        ApprovalKind.ARCHETYPE_PATCH,
        ApprovalKind.WORK_BLOCK_ACTIVATE,
        ApprovalKind.WORK_BLOCK_SHIP,
        ApprovalKind.BOARD_REVIEW,
        ApprovalKind.AGENT_ADD,
        ApprovalKind.BUDGET_RAISE,
        ApprovalKind.SKILL_PROPOSE,
        ApprovalKind.POLICY_PROPOSE,
        ApprovalKind.ISSUE_PROPOSE,
    }
)


def register_applier(kind: ApprovalKind, applier: Applier | str) -> None:
    """Say what deciding ``kind`` does (the function or its dotted path). Registering a kind twice with
    different appliers is a bug."""
    existing = APPLIERS.get(kind)
    if existing is not None and existing != applier:
        raise RuntimeError(f"An applier for {kind} is already registered: {existing!r}.")
    APPLIERS[kind] = applier


def applier_for(kind: str) -> Applier | None:
    applier = APPLIERS.get(kind)
    if isinstance(applier, str):
        loaded: Applier = load_by_name(applier)
        return loaded
    return applier


def stale(approval: Approval, why: str) -> Conflict:
    return Conflict(f"This approval is stale: {why}. Nothing was changed.", code="stale")

"""approvals is generic: each app registers what deciding its kind of approval does."""

from __future__ import annotations

from typing import Any

import pytest

from approvals import registry
from approvals.appliers import agent_add
from approvals.models import ApprovalKind
from archetypes.appliers import archetype_patch
from blocks.appliers import work_block_activate, work_block_ship
from issues.appliers import board_review
from learning.appliers import improvement_issue, policy_propose, skill_propose
from runners.appliers import budget_raise


def test_it_has_an_applier_registered_by_its_app_for_every_human_gate() -> None:
    assert {
        ApprovalKind.ARCHETYPE_PATCH: archetype_patch,
        ApprovalKind.WORK_BLOCK_ACTIVATE: work_block_activate,
        ApprovalKind.WORK_BLOCK_SHIP: work_block_ship,
        ApprovalKind.BOARD_REVIEW: board_review,
        ApprovalKind.AGENT_ADD: agent_add,
        ApprovalKind.BUDGET_RAISE: budget_raise,
        ApprovalKind.SKILL_PROPOSE: skill_propose,
        ApprovalKind.POLICY_PROPOSE: policy_propose,
        ApprovalKind.ISSUE_PROPOSE: improvement_issue,
    } == {kind: registry.applier_for(kind) for kind in registry.APPLIERS}
    assert set(registry.APPLIERS) == registry.HUMAN_ONLY_KINDS
    assert registry.applier_for(ApprovalKind.ACTION) is None  # a plain agent action applies nothing


def test_it_refuses_a_second_different_applier_for_a_kind(monkeypatch: Any) -> None:
    monkeypatch.setattr(registry, "APPLIERS", {})
    registry.register_applier(ApprovalKind.BOARD_REVIEW, board_review)
    registry.register_applier(ApprovalKind.BOARD_REVIEW, board_review)  # the same one again (ready() twice) is fine
    with pytest.raises(RuntimeError, match="already registered"):
        registry.register_applier(ApprovalKind.BOARD_REVIEW, budget_raise)
    assert {ApprovalKind.BOARD_REVIEW: board_review} == registry.APPLIERS


def test_it_imports_an_applier_registered_by_name_at_its_first_use(monkeypatch: Any) -> None:
    monkeypatch.setattr(registry, "APPLIERS", {})
    registry.register_applier(ApprovalKind.BOARD_REVIEW, "issues.appliers.board_review")
    registry.register_applier(ApprovalKind.BOARD_REVIEW, "issues.appliers.board_review")
    with pytest.raises(RuntimeError, match="already registered"):
        registry.register_applier(ApprovalKind.BOARD_REVIEW, "runners.appliers.budget_raise")
    assert registry.applier_for(ApprovalKind.BOARD_REVIEW) is board_review

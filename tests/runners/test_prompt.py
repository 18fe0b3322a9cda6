from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orgs.actors import Actor
from runners.prompt import prompt_build
from tests.factories import make_agent, make_apex_block, make_ceo, make_comment, make_issue, make_work_block

pytestmark = pytest.mark.django_db


def test_it_carries_the_issue_its_why_chain_comments_role_and_api_sheet(org: Any) -> None:
    apex = make_apex_block(org, title="Win the market", goal="Be the best self-hosted PM tool")
    block = make_work_block(
        org, title="Sprint 1", goal="Ship the engine", north_star_metric="dispatch p50", apex_block=apex
    )
    agent = make_agent(org, slug="dev", archetype="backend")
    parent = make_issue(org, title="Build the scheduler", description="The big picture", work_block=block)
    issue = make_issue(
        org,
        title="Write the executor",
        description="Run CLIs in a process group",
        acceptance_criteria="Hanging processes are killed",
        parent=parent,
        assignee=agent,
    )
    make_comment(issue, body="Please also handle stderr", actor=Actor.human(label="ann"))

    prompt = prompt_build(agent=agent, issue=issue, mode="task", reason="assigned")

    for expected in (
        issue.key,
        "Write the executor",
        "Run CLIs in a process group",
        "Hanging processes are killed",
        f"Part of {parent.key}",
        "Ship the engine",
        "dispatch p50",
        "Be the best self-hosted PM tool",
        "Please also handle stderr",
        "$MESA_API_URL/issues/$MESA_ISSUE_KEY/checkout",
        "$MESA_API_URL/inbox",
        "wiki/search",
        "issues/similarity",
        '"kind": "evidence"',
    ):
        assert expected in prompt.task, expected
    assert "@dev" in prompt.system and len(prompt.system) > 200  # the archetype's body
    assert "=== SYSTEM" in prompt.recorded() and prompt.task in prompt.recorded()


def test_it_tells_a_reviewer_how_to_approve_request_changes_or_escalate(org: Any) -> None:
    author = make_agent(org, slug="dev")
    reviewer = make_agent(org, slug="qa", archetype="qa")
    issue = make_issue(org, title="Reviewed work", assignee=author)
    text = prompt_build(agent=reviewer, issue=issue, mode="review").task
    assert "REVIEWER" in text and "done" in text and "todo" in text and "board_review" in text


def test_it_gives_the_ceo_the_roster_and_the_backlog_intake(org: Any, tmp_path: Path) -> None:
    (tmp_path / "artifact-docs").mkdir()
    (tmp_path / "artifact-docs" / "backlog.md").write_text("- Add dark mode\n")
    ceo = make_ceo(org, working_dir=str(tmp_path))
    make_agent(org, slug="dev", name="Dev One", reports_to=ceo)
    text = prompt_build(agent=ceo, issue=None, mode="heartbeat").task
    assert "@dev Dev One" in text
    assert "BACKLOG INTAKE" in text and "Add dark mode" in text
    assert "HEARTBEAT" in text


def test_it_never_contains_a_key(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    issue = make_issue(org, title="Anything", assignee=agent)
    text = prompt_build(agent=agent, issue=issue, mode="task").task
    assert "mesa_" not in text.replace("$MESA_", "").lower().replace("mesa_api", "")


def test_it_tells_the_requester_what_was_decided_and_why(org: Any) -> None:
    from approvals.services import approval_create, approval_resolve

    agent = make_agent(org, slug="asker", runner="noop")
    approval = approval_create(
        actor=Actor.for_agent(agent), org=org, title="Drop the legacy table", reason="It is unused"
    )
    approval_resolve(
        actor=Actor.human(label="alice"), approval=approval, decision="rejected", comment="Finance still reads it"
    )
    text = prompt_build(agent=agent, issue=None, mode="heartbeat").task
    assert "Drop the legacy table: REJECTED by alice" in text
    assert "Finance still reads it" in text

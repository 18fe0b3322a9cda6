from __future__ import annotations

from typing import Any

import pytest

from issues.models import Comment, CommentKind
from issues.stages import parse_stage_markers, stage_progress
from orgs.actors import Actor
from tests.factories import make_agent, make_comment, make_issue, make_org


def test_it_parses_a_stages_line_and_completion_lines() -> None:
    markers = parse_stage_markers("Plan:\nStages: [Design], [Build it], [Test]\nmore text")
    assert markers.titles == ["Design", "Build it", "Test"] and markers.completed == []
    done = parse_stage_markers("stage 2: Build it - Complete\nStage 3: Test — completed.")
    assert done.titles is None and done.completed == [2, 3]


def test_it_ignores_markers_in_code_blocks_and_prose() -> None:
    text = "To set stages write:\n```\nStages: [A], [B]\nStage 1: A - Complete\n```\nThe stage 1 is not complete yet."
    assert parse_stage_markers(text) == parse_stage_markers("")
    assert parse_stage_markers("Stages: none yet").titles is None
    assert parse_stage_markers("Stage 2: Build - in progress").completed == []


@pytest.mark.django_db
def test_it_acknowledges_stage_markers_in_comments_with_progress() -> None:
    org = make_org()
    dev = make_agent(org, slug="dev")
    issue = make_issue(org, assignee=dev)
    make_comment(issue, actor=Actor.for_agent(dev), body="Plan.\nStages: [A], [B]")
    progress = stage_progress(issue)
    assert [(s.number, s.title, s.done) for s in progress.stages] == [(1, "A", False), (2, "B", False)]
    assert progress.current == 1 and progress.percent == 0

    make_comment(issue, actor=Actor.for_agent(dev), body="Stage 1: A - Complete")
    progress = stage_progress(issue)
    assert progress.current == 2 and progress.percent == 50
    replies = list(Comment.objects.filter(issue=issue, kind=CommentKind.SYSTEM).values_list("body", flat=True))
    assert replies[-1] == "Stage 1 acknowledged. Progress: 50%"
    assert replies[0].startswith("Stages set: 1. A; 2. B.")

    make_comment(issue, actor=Actor.for_agent(dev), body="Stage 2: B - Complete")
    assert stage_progress(issue).percent == 100 and stage_progress(issue).current == 2


@pytest.mark.django_db
def test_it_answers_why_a_marker_did_not_apply() -> None:
    org = make_org()
    dev = make_agent(org, slug="dev")
    issue = make_issue(org, assignee=dev)
    make_comment(issue, actor=Actor.for_agent(dev), body="Stages: [A], [B], [C]")
    make_comment(issue, actor=Actor.for_agent(dev), body="Stage 2: B - Complete")
    make_comment(issue, actor=Actor.for_agent(dev), body="Stage 9: Z - Complete")
    replies = list(Comment.objects.filter(issue=issue, kind=CommentKind.SYSTEM).values_list("body", flat=True))
    assert replies[1].startswith("Stage 2 not acknowledged: Stage 1 (A) is not complete yet")
    assert replies[2].startswith("Stage 9 not acknowledged:")
    assert stage_progress(issue).percent == 0


@pytest.mark.django_db
def test_it_keeps_done_leading_stages_when_the_list_is_replaced() -> None:
    org = make_org()
    issue = make_issue(org)
    make_comment(issue, body="Stages: [A], [B]\nStage 1: A - Complete")
    make_comment(issue, body="Stages: [A], [B2], [C]")
    progress = stage_progress(issue)
    assert [(s.title, s.done) for s in progress.stages] == [("A", True), ("B2", False), ("C", False)]
    assert progress.percent == 33


@pytest.mark.django_db
def test_it_shows_stages_and_progress_on_the_issue_page(client: Any, org: Any) -> None:
    issue = make_issue(org, title="Staged")
    assert 'id="issue-stages"' not in client.get(f"/issues/{issue.key}/").content.decode()
    make_comment(issue, body="Stages: [Design], [Build]\nStage 1: Design - Complete")
    page = client.get(f"/issues/{issue.key}/").content.decode()
    assert 'id="issue-stages"' in page and 'aria-valuenow="50"' in page and "1/2 · 50%" in page
    partial = client.get(f"/issues/{issue.key}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="issue-main")
    assert 'aria-current="step"' in partial.content.decode() and "Build" in partial.content.decode()

"""Run evaluations: a judge run scores a finished task run; its JSON answer is parsed and stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from learning.models import Evaluation, EvaluationStatus
from learning.services import learning_settings_update
from orgs.actors import Actor
from runners.execution import execute_run
from runners.judge import judge_parse
from runners.models import Run, RunMode, RunStatus
from tests.factories import make_issue, make_run
from tests.runners.learning_support import JUDGE_OK, scripted_agent

pytestmark = pytest.mark.django_db(transaction=True)
BOARD = Actor.human(label="alice")


def _task_run(org: Any, tmp_path: Path, *, judge_reply: str = JUDGE_OK) -> tuple[Run, Run]:
    """A completed task run of a worker and the judge run it queued (evaluations on, a named judge)."""
    worker = scripted_agent(org, tmp_path, "dev", "Exported the CSV.\nREFLECTION: write the test first.")
    scripted_agent(org, tmp_path, "judge", judge_reply, archetype="auditor")
    learning_settings_update(actor=BOARD, org=org, evaluations=True, judge="judge")
    issue = make_issue(
        org, title="CSV export of invoices", assignee=worker, acceptance_criteria="- A header row\n- One line each"
    )
    run = make_run(worker, issue=issue, mode=RunMode.TASK)
    assert execute_run(run.pk) == RunStatus.COMPLETED
    Run.objects.filter(pk=run.pk).update(diff="+++ b/export.py\n+def export(): ...\n")
    judge_run = Run.objects.get(mode=RunMode.EVALUATION)
    return run, judge_run


def test_it_scores_a_task_run_and_stores_the_judges_answer(org: Any, tmp_path: Path) -> None:
    run, judge_run = _task_run(org, tmp_path)
    evaluation = Evaluation.objects.get(run=run)
    assert evaluation.status == EvaluationStatus.PENDING and evaluation.judge_run_id == judge_run.pk
    assert judge_run.agent.slug == "judge" and judge_run.issue_id is None and judge_run.status == RunStatus.QUEUED

    assert execute_run(judge_run.pk) == RunStatus.COMPLETED
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.SCORED
    assert (evaluation.fidelity, evaluation.scope_drift, evaluation.missed_criteria) == (0.8, 0.1, 0.5)
    assert evaluation.unrequested_changes == 0.0
    assert evaluation.overall == pytest.approx((0.8 + 0.9 + 0.5 + 1.0) / 4)
    assert evaluation.reasons["missed_criteria"] == "The header row is missing"
    assert evaluation.verdict == "Good export, but one criterion missed"
    # The judge was fed the issue, its criteria, the role rules, the diff and the transcript tail.
    judge_run.refresh_from_db()
    for fed in ("CSV export of invoices", "A header row", "ROLE RULES of @dev", "def export()", "Exported the CSV"):
        assert fed in judge_run.prompt


def test_it_keeps_a_malformed_answer_without_scores(org: Any, tmp_path: Path) -> None:
    run, judge_run = _task_run(org, tmp_path, judge_reply='{"fidelity": 2, "verdict": "great"}')
    assert execute_run(judge_run.pk) == RunStatus.COMPLETED
    evaluation = Evaluation.objects.get(run=run)
    assert evaluation.status == EvaluationStatus.MALFORMED
    assert evaluation.overall is None and evaluation.fidelity is None
    assert "fidelity" in evaluation.error and '"fidelity": 2' in evaluation.raw


def test_it_judges_nothing_when_the_org_has_evaluations_off(org: Any, tmp_path: Path) -> None:
    worker = scripted_agent(org, tmp_path, "dev", "Done.")
    run = make_run(worker, issue=make_issue(org, title="Anything", assignee=worker), mode=RunMode.TASK)
    assert execute_run(run.pk) == RunStatus.COMPLETED
    assert not Run.objects.filter(mode=RunMode.EVALUATION).exists()
    assert not Evaluation.objects.exists()


def test_it_parses_scores_given_as_bare_numbers_and_refuses_a_missing_verdict() -> None:
    bare = '{"fidelity": 1, "scope_drift": 0, "missed_criteria": 0.25, "unrequested_changes": 0, "verdict": "ok"}'
    parsed = judge_parse(bare)
    assert not isinstance(parsed, str)
    assert parsed[0]["missed_criteria"] == 0.25 and parsed[2] == "ok"
    assert judge_parse(bare.replace('"verdict": "ok"', '"note": "x"')) == "the verdict is missing"
    assert isinstance(judge_parse("I think it was fine."), str)

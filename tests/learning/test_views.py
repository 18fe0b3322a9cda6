"""The learning pages: Observability (roll-ups, worst runs first), Skills, Board policies, Audits; the run
and issue pages show a run's evaluation. Each page costs a constant number of queries; another org's rows
never show and cannot be changed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import Agent
from learning.models import (
    AuditFinding,
    BoardPolicy,
    Evaluation,
    EvaluationStatus,
    FindingKind,
    Skill,
    SkillStatus,
    SkillUse,
)
from learning.rollups import by_agent, by_archetype
from learning.selectors import learning_settings
from learning.services import evaluation_record, policy_create, reflection_record, skill_propose
from orgs.actors import Actor
from runners.models import Run, RunMode, RunStatus
from tests.factories import make_agent, make_issue, make_org, make_run

BOARD = Actor.human(label="alice")


def _scored(agent: Agent, overall_fidelity: float, *, issue: Any = None, verdict: str = "") -> Evaluation:
    run = make_run(agent, issue=issue, mode=RunMode.TASK, status=RunStatus.COMPLETED)
    evaluation = Evaluation.objects.create(org=agent.org, run=run, agent=agent, archetype=agent.archetype, issue=issue)
    scores = {"fidelity": overall_fidelity, "scope_drift": 0.0, "missed_criteria": 0.0, "unrequested_changes": 0.0}
    reasons = {name: f"because {name}" for name in scores}
    return evaluation_record(
        evaluation=evaluation, status=EvaluationStatus.SCORED, scores=scores, reasons=reasons,
        verdict=verdict or f"verdict {overall_fidelity}",
    )  # fmt: skip


def _fill(org: Any, n: int) -> None:
    agents = [make_agent(org, slug=f"a{i}-{n}", archetype=("qa", "backend")[i % 2]) for i in range(3)]
    for i in range(n):
        _scored(agents[i % 3], (i % 10) / 10, issue=make_issue(org, title=f"Issue {n}-{i}"))


def test_it_rolls_up_scores_per_agent_and_archetype_worst_runs_first(
    client: Any, org: Any, django_assert_max_num_queries: Any
) -> None:
    dev = make_agent(org, slug="dev", name="Dev", archetype="backend")
    qa = make_agent(org, slug="qa", name="Quinn", archetype="qa")
    _scored(dev, 0.9, verdict="Solid work")
    _scored(qa, 0.1, verdict="Ignored the criteria")
    _scored(make_agent(make_org(), slug="elsewhere"), 0.0, verdict="Another org's run")
    reflection_record(agent=qa, run=None, issue=None, text="Read the criteria before coding.")
    with django_assert_max_num_queries(14):
        body = client.get("/observability/").content.decode()
    assert "Ignored the criteria" in body and "Solid work" in body and "Another org's run" not in body
    worst = body[body.index('id="worst-runs"') :]
    assert worst.index("Ignored the criteria") < worst.index("Solid work")
    assert ">Quinn</a>" in body and "backend" in body
    assert "Read the criteria before coding." in body


def test_it_renders_the_observability_page_in_constant_queries(
    client: Any, org: Any, django_assert_num_queries: Any
) -> None:
    _fill(org, 3)
    client.get("/observability/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get("/observability/")
    _fill(org, 30)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/observability/").status_code == 200


def test_it_saves_the_learning_settings(client: Any, org: Any) -> None:
    make_agent(org, slug="judge")
    response = client.post(
        "/observability/", {"evaluations": "on", "judge": "judge", "auditor": "", "audit_every_hours": "12"}
    )
    assert response.status_code == 302
    org.refresh_from_db()
    settings = learning_settings(org)
    assert settings.evaluations and settings.judge == "judge" and settings.audit_every_hours == 12
    client.post("/observability/", {"judge": "nobody", "audit_every_hours": "0"})
    org.refresh_from_db()
    assert learning_settings(org).judge == "judge"  # an unknown agent is refused, nothing changed


def test_it_lists_skills_with_their_runs_and_scores(client: Any, org: Any, django_assert_max_num_queries: Any) -> None:
    dev = make_agent(org, slug="dev", archetype="backend")
    skill = skill_propose(actor=BOARD, org=org, title="Run the tests", body="make test", archetype="backend")
    for fidelity in (0.4, 0.8):
        SkillUse.objects.create(skill=skill, run=_scored(dev, fidelity).run)
    for n in range(10):
        skill_propose(actor=BOARD, org=org, title=f"Other skill {n}", body="x")
    theirs = skill_propose(actor=BOARD, org=make_org(), title="Their skill", body="secret")
    with django_assert_max_num_queries(12):
        body = client.get("/skills/").content.decode()
    assert "Run the tests" in body and "archetype backend" in body and "Their skill" not in body
    # Used in 2 runs; their average overall (0.85 and 0.95) and average fidelity (0.4 and 0.8).
    start = body.index("Run the tests")
    row = body[start : body.index("</tr>", start)]
    assert '<td class="right mono">2</td>' in row and "0.90" in row and "0.60" in row
    assert f"#{SkillUse.objects.order_by('-run_id').first().run_id}</a> @dev" in row  # type: ignore[union-attr]
    client.post("/skills/", {"action": "retire", "slug": theirs.slug})
    assert Skill.objects.get(pk=theirs.pk).status == SkillStatus.ACTIVE
    client.post("/skills/", {"action": "retire", "slug": skill.slug})
    assert Skill.objects.get(pk=skill.pk).status == SkillStatus.RETIRED


def test_it_adds_and_switches_board_policies(client: Any, org: Any, django_assert_max_num_queries: Any) -> None:
    theirs = policy_create(actor=BOARD, org=make_org(), text="Their rule")
    assert client.post("/policies/", {"action": "add", "text": "Never touch billing"}).status_code == 302
    policy = BoardPolicy.objects.get(org=org)
    assert policy.active and policy.text == "Never touch billing"
    client.post("/policies/", {"action": "toggle", "policy": str(policy.pk)})
    assert not BoardPolicy.objects.get(pk=policy.pk).active
    client.post("/policies/", {"action": "toggle", "policy": str(theirs.pk)})
    assert BoardPolicy.objects.get(pk=theirs.pk).active
    for n in range(10):
        policy_create(actor=BOARD, org=org, text=f"Rule {n}")
    with django_assert_max_num_queries(10):
        body = client.get("/policies/").content.decode()
    assert "Never touch billing" in body and "Rule 9" in body and "Their rule" not in body


def test_it_runs_an_audit_now_and_shows_its_findings(client: Any, org: Any, django_assert_max_num_queries: Any) -> None:
    auditor = make_agent(org, slug="auditor", archetype="auditor")
    assert client.post("/audits/").status_code == 302
    run = Run.objects.get(mode=RunMode.AUDIT)
    assert run.agent == auditor and run.status == RunStatus.QUEUED
    for n in range(5):
        AuditFinding.objects.create(org=org, run=run, kind=FindingKind.NOTE, title=f"Finding {n}")
        AuditFinding.objects.create(
            org=org, run=make_run(auditor, mode=RunMode.AUDIT, status="completed"), kind="note", title=f"Old {n}"
        )
    with django_assert_max_num_queries(12):
        body = client.get("/audits/").content.decode()
    assert "Finding 4" in body and "Old 4" in body and "Run audit now" in body


def test_it_shows_the_evaluation_on_the_run_and_issue_pages(client: Any, org: Any) -> None:
    dev = make_agent(org, slug="dev")
    issue = make_issue(org, title="Export", assignee=dev)
    evaluation = _scored(dev, 0.6, issue=issue, verdict="Half of the export")
    run_page = client.get(f"/runs/{evaluation.run_id}/").content.decode()
    assert "Half of the export" in run_page and "because missed_criteria" in run_page
    issue_page = client.get(f"/issues/{issue.key}/").content.decode()
    assert 'title="Half of the export"' in issue_page and "0.90" in issue_page


def test_it_puts_this_weeks_average_last_in_the_trend(org: Any) -> None:
    dev = make_agent(org, slug="dev", archetype="backend")
    _scored(dev, 0.2)
    _scored(dev, 0.6)
    weeks, rows = by_agent(org)
    assert len(rows) == 1 and len(rows[0].trend) == len(weeks) == 8
    assert rows[0].trend[-1] == pytest.approx((0.8 + 0.9) / 2) and rows[0].trend[:-1] == [None] * 7
    assert rows[0].averages["n"] == 2
    _, archetypes = by_archetype(org)
    assert [(r.key, r.trend[-1]) for r in archetypes] == [("backend", pytest.approx(0.85))]

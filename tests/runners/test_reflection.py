"""Reflections: the agent's closing REFLECTION line from run 1 is in its prompt of run 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from learning.models import Reflection
from learning.services import reflection_record
from runners.execution import execute_run
from runners.models import Run, RunMode, RunStatus
from runners.prompt import prompt_build
from runners.reflection import reflection_text
from tests.factories import make_agent, make_issue, make_run
from tests.runners.learning_support import scripted_agent

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_asks_for_a_reflection_and_gives_it_to_the_next_run(org: Any, tmp_path: Path) -> None:
    said = "Added the endpoint.\n**REFLECTION:** run the migrations before the tests next time.**"
    agent = scripted_agent(org, tmp_path, "dev", said)
    first = make_run(agent, issue=make_issue(org, title="Add the endpoint", assignee=agent), mode=RunMode.TASK)
    assert execute_run(first.pk) == RunStatus.COMPLETED
    first.refresh_from_db()
    assert "REFLECTION:" in first.prompt  # the last step asks for it
    reflection = Reflection.objects.get(agent=agent)
    assert reflection.text == "run the migrations before the tests next time." and reflection.run_id == first.pk

    second = make_run(agent, issue=make_issue(org, title="Something else", assignee=agent), mode=RunMode.TASK)
    assert execute_run(second.pk) == RunStatus.COMPLETED
    second.refresh_from_db()
    assert "run the migrations before the tests next time." in second.prompt
    # Another agent never sees it.
    other = make_agent(org, slug="other")
    assert "run the migrations" not in prompt_build(agent=other, issue=None, mode="heartbeat").task


def test_it_keeps_nothing_when_the_agent_gives_no_reflection(org: Any, tmp_path: Path) -> None:
    agent = scripted_agent(org, tmp_path, "dev", "All done, nothing to add.")
    run = make_run(agent, issue=make_issue(org, title="Quiet", assignee=agent), mode=RunMode.TASK)
    assert execute_run(run.pk) == RunStatus.COMPLETED
    assert not Reflection.objects.exists()
    assert Run.objects.get(pk=run.pk).status == RunStatus.COMPLETED


def test_it_adds_older_reflections_that_match_the_issues_words(org: Any) -> None:
    agent = make_agent(org, slug="dev")
    reflection_record(agent=agent, run=None, issue=None, text="Invoices: the PDF renderer needs fonts installed.")
    for n in range(5):
        reflection_record(agent=agent, run=None, issue=None, text=f"Unrelated lesson number {n}.")
    about_invoices = make_issue(org, title="Render invoices as PDF", assignee=agent)
    text = prompt_build(agent=agent, issue=about_invoices, mode="task").task
    assert "PDF renderer needs fonts" in text and "lesson number 4" in text
    unrelated = make_issue(org, title="Tune the cache", assignee=agent)
    assert "PDF renderer" not in prompt_build(agent=agent, issue=unrelated, mode="task").task


def test_it_reads_the_last_marker_line() -> None:
    assert reflection_text("REFLECTION: first\nmore\n> reflection: second one") == "second one"
    assert reflection_text("no marker here") == ""

from __future__ import annotations

from typing import Any

import pytest

from issues.linter import acceptance_warnings, has_acceptance_criteria
from issues.models import Issue


@pytest.mark.parametrize(
    ("description", "criteria"),
    [
        ("", "Logs in with a valid password."),
        ("Intro\n\n## Acceptance criteria\n\nThe page loads.", ""),
        ("### AC:\n- works", ""),
        ("Steps:\n- [ ] it logs in\n- [x] it logs out", ""),
    ],
)
def test_it_finds_acceptance_criteria(description: str, criteria: str) -> None:
    assert has_acceptance_criteria(description=description, acceptance_criteria=criteria)


@pytest.mark.parametrize(
    "description",
    ["", "Make login faster.", "## Acceptance criteria\n\n## Notes\nnothing", "- plain list item", "[ ] no bullet"],
)
def test_it_finds_none(description: str) -> None:
    assert not has_acceptance_criteria(description=description, acceptance_criteria="  ")


def test_it_warns_only_for_features_and_bugs() -> None:
    warnings = acceptance_warnings(type="feature", description="Make it fast.", acceptance_criteria="")
    assert [w.code for w in warnings] == ["no_acceptance_criteria"] and "feature" in warnings[0].message
    assert acceptance_warnings(type="bug", description="", acceptance_criteria="")
    assert acceptance_warnings(type="task", description="", acceptance_criteria="") == []
    assert acceptance_warnings(type="feature", description="- [ ] fast", acceptance_criteria="") == []


@pytest.mark.django_db
def test_it_warns_inline_in_the_form_and_still_allows_creation(client: Any, org: Any) -> None:
    form = {"title": "Faster login", "description": "Make it fast.", "type": "feature", "priority": "0"}
    response = client.post("/issues/new", form)
    page = response.content.decode()
    assert response.status_code == 200 and 'data-code="no_acceptance_criteria"' in page and "Create anyway" in page
    assert not Issue.objects.filter(org=org).exists()

    created = client.post("/issues/new", {**form, "ack_warnings": "1"})
    assert created.status_code == 302 and Issue.objects.get(org=org).acceptance_criteria == ""

    with_ac = client.post("/issues/new", {**form, "title": "Faster logout", "acceptance_criteria": "- [ ] < 1 s"})
    assert with_ac.status_code == 302
    assert Issue.objects.get(org=org, title="Faster logout").acceptance_criteria == "- [ ] < 1 s"
    task = client.post("/issues/new", {**form, "title": "A chore", "type": "chore"})
    assert task.status_code == 302

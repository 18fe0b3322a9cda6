"""The story on the issue page: a parent whose two sub-issues shipped into its branch, merged by a human."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, run_python

pytestmark = pytest.mark.browser

# Two sub-issues built on their branches and shipped into the parent's branch (real git, the org's
# bootstrap repository), as the scheduler would have done; prints the parent's key and the repository.
STORY = """
from issues.models import Issue
from issues.services import issue_create
from orgs.actors import Actor
from orgs.models import Org
from agents.models import Agent
from runners.branches import issue_workspace
from runners.models import Run
from runners.shipping import SHIPPER, issue_ship
from runners.worktrees import workspace_finish
org = Org.objects.get(slug="mesa")
seed = Actor.system("seed")
dev = Agent.objects.get(org=org, slug="founding-engineer")
design = Agent.objects.get(org=org, slug="designer")
parent = issue_create(actor=seed, org=org, title="Search box", assignee=Agent.objects.get(org=org, slug="ceo"))
for agent, title, name in ((dev, "API: Search box", "api.txt"), (design, "UI: Search box", "ui.txt")):
    child = issue_create(actor=seed, org=org, title=title, assignee=agent, parent=parent)
    run = Run.objects.create(org=org, agent=agent, issue=child, status="completed")
    ws = issue_workspace(agent=agent, run=run, issue=child)
    (ws.cwd / name).write_text(title + "\\n")
    workspace_finish(ws, run_id=run.pk)
    Issue.objects.filter(pk=child.pk).update(status="done")
    issue_ship(actor=SHIPPER, issue=Issue.objects.get(pk=child.pk))
print(parent.key, dev.working_dir)
"""


def test_it_shows_the_issue_branch_and_merges_it_when_a_human_presses_merge(
    page: Page, mesa: Server, screenshots: Path
) -> None:
    key, repo = run_python(mesa.db, STORY).split()
    page.goto(f"{mesa.url}/issues/{key}/")
    expect(page.locator("html")).to_have_attribute("data-live", "on", timeout=10_000)

    section = page.locator("#issue-branch")
    expect(section.locator("[data-branch-name]")).to_have_text(f"mesa/{key}")
    expect(section).to_contain_text("ahead · 0 behind main")
    expect(section).to_contain_text("api.txt")
    expect(section).to_contain_text("ui.txt")
    expect(section.locator("[data-ship-state]")).to_have_attribute("data-ship-state", "working")
    section.locator("summary").click()
    expect(section.locator(".diff")).to_contain_text("+UI: Search box")
    page.screenshot(path=str(screenshots / "issue-branch.png"), full_page=True)

    page.keyboard.press("Control+k")
    page.keyboard.type("copy branch")
    expect(page.locator("#mesa-palette .palette-item").first).to_contain_text("Copy branch name")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text(f"mesa/{key}")

    section.get_by_role("button", name="Merge").click()
    expect(page.locator("#issue-branch [data-ship-state]")).to_have_attribute("data-ship-state", "merged")
    expect(page.locator("#issue-branch")).to_contain_text("merged into main")
    files = run_python(mesa.db, f"import os\nprint(sorted(os.listdir({repo!r})))")
    assert "api.txt" in files and "ui.txt" in files

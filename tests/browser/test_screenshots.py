"""Screenshots of the main pages, on an org seeded like a real one, for test artifacts and the README."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import REPO, Server, manage, prepare_db, run_python, start_daphne

pytestmark = pytest.mark.browser

SEED = """
from agents.models import Agent
from approvals.services import approval_create
from blocks.services import apex_block_create, work_block_create, work_block_transition
from issues.comments import comment_create
from issues.services import issue_create, issue_transition
from issues.labels import label_create
from orgs.actors import Actor
from orgs.models import Org
from wiki.services import wiki_page_create

org = Org.objects.get(slug="mesa")
board = Actor.human(label="local")
agents = list(Agent.objects.filter(org=org).exclude(archetype="ceo").order_by("id"))
eng = agents[0]
apex = apex_block_create(actor=board, org=org, title="Self-serve onboarding",
                         goal="A new team runs its first agent in under ten minutes.")
from datetime import timedelta
from django.utils import timezone
block = work_block_create(actor=board, org=org, title="Sprint 1: first run", apex_block=apex,
                          goal="Sign-up to first completed run without help.",
                          start_date=timezone.localdate(), end_date=timezone.localdate() + timedelta(days=13))
work_block_transition(actor=board, block=block, to="active")
from issues.models import Label
for name, color in (("bug", "#e5484d"), ("ux", "#6e56cf")):
    if not Label.objects.filter(org=org, name=name).exists():
        label_create(actor=board, org=org, name=name, color=color)
rows = [
    ("Guided setup wizard for the first agent", 3, ["ux"], "in_review"),
    ("Checkout race drops a claim under load", 4, ["bug"], "in_progress"),
    ("Show token spend per run on the issue page", 2, ["ux"], "in_progress"),
    ("Retry transient model API errors with backoff", 3, [], "todo"),
    ("Document the board key workflow", 1, [], "todo"),
    ("Dark mode contrast on the kanban cards", 1, ["ux", "bug"], "done"),
    ("Import issues from a CSV export", 2, [], "todo"),
]
issues = []
for title, priority, labels, status in rows:
    issue = issue_create(actor=board, org=org, title=title, priority=priority, labels=labels,
                         assignee=None if status == "todo" else eng, work_block=block,
                         description="Acceptance: it works end to end, with a test.")
    if status != "todo":
        issue_transition(actor=board, issue=issue, to="in_progress")
    if status in ("in_review", "done"):
        issue_transition(actor=board, issue=issue, to="in_review")
    if status == "done":
        issue_transition(actor=board, issue=issue, to="done")
    issues.append(issue)
comment_create(actor=Actor.for_agent(eng), issue=issues[0],
               body="Implemented the wizard in `setup/wizard.py`; **all tests pass**. Ready for review.")
comment_create(actor=board, issue=issues[0], body="Looks good, one nit on the copy.")
wiki_page_create(actor=board, org=org, title="Deployment guide",
                 content="# Deploying Mesa\\n\\n1. `make run`\\n2. Open http://127.0.0.1:3001\\n3. Press `C`.")
wiki_page_create(actor=board, org=org, title="Coding conventions", content="Services own writes; views stay small.")
approval_create(actor=Actor.for_agent(eng), org=org, title="Merge the setup wizard to main", issue=issues[0],
                reason="Review passed; the change touches the sign-up flow.")
target = issue_create(actor=board, org=org, title="Add a health endpoint", priority=2, assignee=eng, work_block=block)
# A cycle with a week of history for the burndown: the block started six days ago, its issues were
# planned before it, and three of them were finished on earlier days (their activity rows moved back).
from blocks.models import WorkBlock
from issues.models import Issue
from orgs.models import Activity
now = timezone.now()
for title, days_ago in (("Sign-up form keeps the typed email", 5), ("Welcome email names the first step", 3),
                        ("Empty dashboard links to the next steps", 1)):
    done = issue_create(actor=board, org=org, title=title, priority=2, assignee=eng, work_block=block)
    for step in ("in_progress", "in_review", "done"):
        issue_transition(actor=board, issue=done, to=step)
    Activity.objects.filter(org=org, object_id=done.key).update(created_at=now - timedelta(days=days_ago))
Issue.objects.filter(org=org, work_block=block).update(created_at=now - timedelta(days=7))
WorkBlock.objects.filter(pk=block.pk).update(start_date=timezone.localdate() - timedelta(days=6),
                                             end_date=timezone.localdate() + timedelta(days=7))
from chat.services import channel_create, message_post
from learning.services import policy_create
eng_channel = channel_create(actor=board, org=org, name="eng", topic="Engineering")
message_post(actor=board, channel=eng_channel, body="@founding-engineer the wizard ships Friday; anything blocking?")
message_post(actor=Actor.for_agent(eng), channel=eng_channel, body="Nothing blocking. Tests are green on the branch.")
policy_create(actor=board, org=org, text="Never touch billing without a human approval.")
print(issues[0].key, target.key)
"""

PAGES = [
    ("dashboard", "/"),
    ("board", "/issues/"),
    ("issue", "/issues/{issue}/"),
    ("agents", "/agents/"),
    ("org-chart", "/agents/chart/"),
    ("run", "/runs/{run}/"),
    ("strategy", "/strategy/"),
    ("approvals", "/approvals/"),
    ("wiki", "/wiki/"),
    ("usage", "/usage/"),
    ("settings", "/settings/"),
    ("channels", "/channels/eng/"),
    ("observability", "/observability/"),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, str]]:
    directory = tmp_path_factory.mktemp("mesa-screens")
    db = prepare_db(directory)
    issue, _ = run_python(db, SEED).split()
    run = ""
    if (REPO / "runners" / "management" / "commands" / "scheduler.py").exists():
        manage(db, "scheduler", "--once", "--timeout", "30")
        run = run_python(
            db, "from runners.models import Run\nr = Run.objects.order_by('-id').first()\nprint(r.pk if r else '')"
        )
    server = start_daphne(db, directory / "daphne.log")
    yield server, issue, run.strip()
    server.stop()


def test_it_saves_screenshots_of_the_main_pages(page: Page, seeded: tuple[Server, str, str], screenshots: Path) -> None:
    server, issue, run = seeded
    assert run, "scheduler --once produced no run to show"
    docs = REPO / "docs" / "screenshots"
    docs.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, path in PAGES:
        response = page.goto(server.url + path.format(issue=issue, run=run))
        assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
        expect(page.locator("html")).to_have_attribute("data-live", "on", timeout=10_000)
        target = screenshots / f"{name}.png"
        page.screenshot(path=str(target))
        shutil.copyfile(target, docs / f"{name}.png")
        saved.append(name)
    # The command palette over the board, mid-search.
    page.goto(server.url + "/issues/")
    page.keyboard.press("Control+k")
    page.keyboard.type("wiz")
    expect(page.locator("#mesa-palette .palette-item").first).to_contain_text("wizard")
    page.screenshot(path=str(screenshots / "palette.png"))
    shutil.copyfile(screenshots / "palette.png", docs / "palette.png")
    # The work block as a cycle: dates, burndown, "Add issues" (reached from the current cycle on the list).
    page.keyboard.press("Escape")
    page.goto(server.url + "/blocks/")
    page.locator("#current-cycle a").first.click()
    expect(page.locator("svg.burndown")).to_be_visible()
    page.screenshot(path=str(screenshots / "cycle.png"))
    shutil.copyfile(screenshots / "cycle.png", docs / "cycle.png")
    # The board on a phone: the sidebar folds behind the menu button and the columns scroll sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/issues/")
    expect(page.get_by_role("button", name="Menu")).to_be_visible()
    page.screenshot(path=str(screenshots / "phone-board.png"))
    shutil.copyfile(screenshots / "phone-board.png", docs / "phone-board.png")
    assert {
        "dashboard",
        "board",
        "issue",
        "agents",
        "org-chart",
        "run",
        "strategy",
        "approvals",
        "wiki",
        "usage",
        "settings",
    } <= set(saved)

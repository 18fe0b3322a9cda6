from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.server import REPO, Server, manage, mesa_env, run_python

pytestmark = pytest.mark.browser

MAKE_ISSUE = """
from orgs.models import Org
from orgs.actors import Actor
from agents.models import Agent
from issues.services import issue_create
org = Org.objects.get(slug="mesa")
assignee = Agent.objects.filter(org=org, slug={assignee!r}).first() if {assignee!r} else None
print(issue_create(actor=Actor.system("seed"), org=org, title={title!r}, priority={priority}, assignee=assignee).key)
"""


# A macrotask yield that does not go through setTimeout (which a paused page clock holds).
YIELD_A_TASK = (
    "() => new Promise(r => { const c = new MessageChannel(); c.port1.onmessage = () => r(); c.port2.postMessage(0); })"
)


def make_issue(server: Server, title: str, *, priority: int = 0, assignee: str = "") -> str:
    return run_python(server.db, MAKE_ISSUE.format(title=title, priority=priority, assignee=assignee)).strip()


def an_agent(server: Server) -> str:
    code = "from agents.models import Agent\nprint(Agent.objects.exclude(archetype='ceo').order_by('id').first().slug)"
    return run_python(server.db, code).strip()


def open_live(page: Page, url: str) -> None:
    """Open ``url`` and wait until its event stream is connected."""
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("data-live", "on", timeout=10_000)
    page.evaluate("window.__noReload = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__noReload === true"), "the page reloaded"


def test_it_creates_an_issue_with_c(page: Page, mesa: Server) -> None:
    open_live(page, mesa.url + "/issues/")
    page.keyboard.press("c")
    dialog = page.locator("dialog#quick-create")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=title]")).to_be_focused()
    page.keyboard.type("Wire the telemetry exporter")
    dialog.locator("input[name=title]").press("Enter")
    expect(page.get_by_text("Wire the telemetry exporter").first).to_be_visible()
    out = run_python(
        mesa.db,
        "from issues.models import Issue\nprint(Issue.objects.filter(title='Wire the telemetry exporter').count())",
    )
    assert out.strip() == "1"


def test_it_moves_a_card_on_the_board(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Move me across the board", assignee=an_agent(mesa))
    open_live(page, mesa.url + "/issues/")
    card = page.locator(f".card[data-key='{key}']")
    expect(card).to_have_attribute("data-status", "todo")
    card.drag_to(page.locator(".column[data-status='in_progress']"))
    expect(page.locator(f".column[data-status='in_progress'] .card[data-key='{key}']")).to_be_visible()
    status = run_python(mesa.db, f"from issues.models import Issue\nprint(Issue.objects.get(key={key!r}).status)")
    assert status.strip() == "in_progress"


def test_it_opens_an_issue_from_the_palette_by_a_fuzzy_fragment(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Calibrate the flux capacitor")
    make_issue(mesa, "Clean up the fixtures")
    open_live(page, mesa.url + "/")
    page.keyboard.press("Control+k")
    palette = page.locator("dialog#mesa-palette")
    expect(palette).to_be_visible()
    page.keyboard.type("flxcap")
    first = palette.locator(".palette-item").first
    expect(first).to_contain_text("Calibrate the flux capacitor")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/issues/{key}/")
    expect(page.locator("body")).to_have_attribute("data-issue-key", key)


def test_it_acts_on_the_current_issue_from_the_palette(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Prioritise from the palette")
    open_live(page, f"{mesa.url}/issues/{key}/")
    page.keyboard.press("Control+k")
    page.keyboard.type("set prio")
    page.keyboard.press("Enter")
    expect(page.locator("#mesa-palette .palette-item").first).to_contain_text("Urgent")
    page.keyboard.type("urg")
    expect(page.locator("#mesa-palette .palette-item").first).to_contain_text("Urgent")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text("Urgent")
    # Only the lifecycle's legal moves are offered (as on the issue page): Todo → In progress | Blocked | Cancelled.
    page.keyboard.press("Control+k")
    page.keyboard.type("set status")
    page.keyboard.press("Enter")
    items = page.locator("#mesa-palette .palette-item")
    expect(items).to_have_count(3)
    expect(items.first).to_contain_text("In progress")
    page.keyboard.type("done")
    expect(items).to_have_count(0)
    page.keyboard.press("Escape")
    priority = run_python(mesa.db, f"from issues.models import Issue\nprint(Issue.objects.get(key={key!r}).priority)")
    assert priority.strip() == "4"


def test_it_does_not_let_enter_act_on_the_answer_to_an_earlier_query(page: Page, mesa: Server) -> None:
    """Enter acts on what the typed query lists, even when an older answer lands after the typing.

    The page's clock is paused so the palette's 60 ms typing timer cannot fire, and the answer to
    the empty query (sent when the palette opened) is held back until "set status" is typed.
    """
    key = make_issue(mesa, "Race the palette")
    page.clock.install()
    open_live(page, f"{mesa.url}/issues/{key}/")
    held: list[Route] = []
    page.route("**/palette/search*", lambda route: held.append(route))
    page.clock.pause_at(time.time() + 3600)
    page.keyboard.press("Control+k")
    expect(page.locator("dialog#mesa-palette")).to_be_visible()
    while not held:  # the answer to the empty query is held here
        page.wait_for_timeout(10)
    page.keyboard.type("set status")
    with page.expect_request_finished(lambda request: "/palette/search" in request.url):
        held[0].continue_()
    for _ in range(5):  # the page reads the body and renders in later tasks; clock-free yields
        page.evaluate(YIELD_A_TASK)
    page.unroute("**/palette/search*")
    page.keyboard.press("Enter")
    expect(page.locator("#mesa-palette .palette-item").first).to_contain_text("In progress")
    assert page.url.endswith(f"/issues/{key}/")


def test_it_updates_the_open_board_when_the_api_changes_an_issue(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Rename me from the API")
    token = manage(mesa.db, "board-key", "--name", "browser test").strip().splitlines()[-1]
    open_live(page, mesa.url + "/issues/")
    expect(page.locator(f".card[data-key='{key}']")).to_contain_text("Rename me from the API")
    request = urllib.request.Request(
        f"{mesa.url}/api/v1/issues/{key}",
        method="PATCH",
        data=json.dumps({"title": "Renamed by the API"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    expect(page.locator(f".card[data-key='{key}']")).to_contain_text("Renamed by the API", timeout=10_000)
    assert_not_reloaded(page)


def test_it_toggles_dark_mode_and_remembers_it(page: Page, mesa: Server) -> None:
    page.goto(mesa.url + "/")
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "dark")
    page.locator("#theme-toggle").click()
    expect(html).to_have_attribute("data-theme", "light")
    page.reload()
    expect(html).to_have_attribute("data-theme", "light")
    page.keyboard.press("Control+k")
    page.keyboard.type("toggle theme")
    page.keyboard.press("Enter")
    expect(html).to_have_attribute("data-theme", "dark")
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")


def test_it_has_keyboard_shortcuts(page: Page, mesa: Server) -> None:
    for n in range(3):
        make_issue(mesa, f"Keyboard target {n}")
    page.goto(mesa.url + "/")
    page.keyboard.press("?")
    overlay = page.locator("dialog#mesa-shortcuts")
    expect(overlay).to_be_visible()
    expect(overlay).to_contain_text("Command palette")
    page.keyboard.press("Escape")
    expect(overlay).to_be_hidden()
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("g")
    page.keyboard.press("b")
    page.wait_for_url("**/issues/")
    page.keyboard.press("j")
    page.keyboard.press("j")
    selected = page.locator("[data-nav-item].is-selected")
    expect(selected).to_have_count(1)
    href = selected.get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{href}")
    page.keyboard.press("g")
    page.keyboard.press("a")
    page.wait_for_url("**/agents/")


@pytest.fixture
def scheduler(mesa: Server, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    if not (REPO / "runners" / "management" / "commands" / "scheduler.py").exists():
        pytest.skip("the scheduler command (runners/management/commands/scheduler.py) does not exist yet")
    log = (tmp_path / "scheduler.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "scheduler"],
        cwd=REPO,
        env=mesa_env(mesa.db),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def test_it_shows_a_noop_run_appearing_on_the_issue_page(page: Page, mesa: Server, scheduler: Any) -> None:
    key = make_issue(mesa, "Let the noop agent do it")
    agent = an_agent(mesa)
    open_live(page, f"{mesa.url}/issues/{key}/")
    runs = page.locator("#issue-runs")
    expect(runs.locator("a[href^='/runs/']")).to_have_count(0)
    page.locator("#field-assignee").select_option(agent)
    expect(runs.locator("a[href^='/runs/']").first).to_be_visible(timeout=20_000)
    expect(runs).to_contain_text("completed", timeout=20_000)
    assert_not_reloaded(page)


def test_it_opens_the_latest_run_of_the_issue_from_the_palette(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Look at my run")
    code = (
        "from agents.models import Agent\nfrom issues.models import Issue\nfrom runners.models import Run\n"
        f"issue = Issue.objects.get(key={key!r})\nagent = Agent.objects.exclude(archetype='ceo').first()\n"
        "print(Run.objects.create(org=issue.org, agent=agent, issue=issue, status='completed').pk)"
    )
    run_id = run_python(mesa.db, code).strip()
    open_live(page, f"{mesa.url}/issues/{key}/")
    page.keyboard.press("Control+k")
    page.keyboard.type("open latest run")
    expect(page.locator("#mesa-palette .palette-item").first).to_contain_text(f"Open latest run #{run_id}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/runs/{run_id}/")

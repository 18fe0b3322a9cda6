"""Phones (issue 12): at 390 × 844 no page is wider than the screen, the board scrolls in its own box, and the
sidebar is a drawer behind a menu button (toggle, Esc closes, focus moves in and back)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.browser.server import Server, run_python

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}

# Content that widens careless layouts: an unbreakable title, a long URL, a long code line, a wide table,
# a long work block name, and enough issues for several board columns.
SEED = """
from agents.models import Agent
from blocks.services import work_block_create
from issues.comments import comment_create
from issues.services import issue_create, issue_transition
from orgs.actors import Actor
from orgs.models import Org
from wiki.services import wiki_page_create
from datetime import timedelta
from django.utils import timezone

org = Org.objects.get(slug="mesa")
board = Actor.human(label="local")
agent = Agent.objects.filter(org=org).exclude(archetype="ceo").order_by("id").first()
word = "Unbreakable" * 12
table = "| " + " | ".join(f"column {i} heading" for i in range(12)) + " |\\n|" + "---|" * 12 + "\\n| " + " | ".join(
    "value" for _ in range(12)) + " |"
text = f"See https://example.com/{'a' * 150}/path\\n\\n```\\n{'x = 1; ' * 40}\\n```\\n\\n{table}\\n\\n`{'inline' * 20}`"
today = timezone.localdate()
block = work_block_create(actor=board, org=org, title="Phone cycle with a long name " + word,
                          start_date=today - timedelta(days=2), end_date=today + timedelta(days=5))
issue = issue_create(actor=board, org=org, title="Phone " + word, description=text, work_block=block, assignee=agent)
comment_create(actor=board, issue=issue, body=text)
for n, status in enumerate(["in_progress", "in_review", "in_progress"]):
    other = issue_create(actor=board, org=org, title=f"Phone column filler {n}", assignee=agent, work_block=block)
    issue_transition(actor=board, issue=other, to="in_progress")
    if status == "in_review":
        issue_transition(actor=board, issue=other, to="in_review")
page = wiki_page_create(actor=board, org=org, title="Phone wide page", content=text)
# Settings lists API keys in a six-column table: wider than a phone with even one key in it.
from agents.keys import key_create
key_create(actor=board, org=org, kind="board", name="phone board key")
print(issue.key, block.pk, page.slug, agent.slug)
"""


@pytest.fixture(scope="module")
def seeded(mesa: Server) -> Iterator[dict[str, str]]:
    key, block, slug, agent = run_python(mesa.db, SEED).split()
    yield {"issue": key, "block": block, "wiki": slug, "agent": agent}


@pytest.fixture
def phone(page: Page) -> Page:
    page.set_viewport_size(PHONE)
    return page


PAGES = [
    "/",
    "/issues/",
    "/issues/?view=list",
    "/issues/{issue}/",
    "/agents/",
    "/agents/{agent}/",
    "/blocks/",
    "/blocks/{block}/",
    "/wiki/",
    "/wiki/{wiki}/",
    "/settings/",
]


@pytest.mark.parametrize("path", PAGES)
def test_it_fits_every_page_in_a_phone_screen(phone: Page, mesa: Server, seeded: dict[str, str], path: str) -> None:
    response = phone.goto(mesa.url + path.format(**seeded))
    assert response is not None and response.status == 200
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width}px wide"


def test_it_scrolls_the_board_inside_its_own_box(phone: Page, mesa: Server, seeded: dict[str, str]) -> None:
    phone.goto(mesa.url + "/issues/")
    board = phone.locator(".board")
    sizes = board.evaluate("b => [b.scrollWidth, b.clientWidth, getComputedStyle(b).overflowX]")
    assert sizes[0] > sizes[1] and sizes[2] == "auto", sizes
    board.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
    assert board.evaluate("b => b.scrollLeft") > 0
    assert phone.evaluate("[document.documentElement.scrollWidth, window.scrollX]") == [PHONE["width"], 0]


def test_it_folds_the_sidebar_behind_a_menu_button(phone: Page, mesa: Server, seeded: dict[str, str]) -> None:
    phone.goto(mesa.url + "/issues/")
    sidebar = phone.locator("nav.sidebar")
    toggle = phone.get_by_role("button", name="Menu")
    expect(toggle).to_be_visible()
    expect(sidebar).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(sidebar).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(sidebar.locator(".nav.on")).to_be_focused()  # focus moves into the drawer, onto the current page
    # Measure the drawer once its slide-in (a CSS transition) has finished: on a busy machine it still moves.
    phone.wait_for_function("() => document.querySelector('nav.sidebar').getBoundingClientRect().x >= 0")
    box = sidebar.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    phone.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    expect(toggle).to_be_focused()  # and back to the button
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(sidebar).to_be_visible()
    phone.mouse.click(PHONE["width"] - 10, PHONE["height"] - 10)  # outside the drawer
    expect(sidebar).to_be_hidden()
    toggle.click()
    sidebar.get_by_role("link", name="Work blocks").click()
    expect(phone).to_have_url(f"{mesa.url}/blocks/")
    expect(phone.locator("nav.sidebar")).to_be_hidden()


def test_it_keeps_the_sidebar_and_hides_the_button_on_a_wide_screen(page: Page, mesa: Server) -> None:
    page.goto(mesa.url + "/issues/")
    expect(page.locator("nav.sidebar")).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()


# An open issue outside the seeded block, in another block with a long name: "Add issues" lists it with
# that name beside it.
SEED_CANDIDATE = """
from blocks.services import work_block_create
from issues.services import issue_create
from orgs.actors import Actor
from orgs.models import Org

org = Org.objects.get(slug="mesa")
board = Actor.human(label="local")
word = "Unbreakable" * 12
other = work_block_create(actor=board, org=org, title="Another cycle " + word)
print(issue_create(actor=board, org=org, title="Candidate " + word, work_block=other).key)
"""


def assert_fits(page: Page, box_of: str, locator: Locator) -> None:
    """``locator`` is on screen, sideways inside the phone, scrolls nothing sideways itself, and the page
    is no wider than the screen."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (box_of, box)
    inner = locator.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert inner[0] <= inner[1], f"{box_of} scrolls sideways: {inner}"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{box_of} makes the page {width}px wide"


def select_card(page: Page, key: str) -> None:
    page.locator("body").click(position={"x": 200, "y": 5})
    for _ in range(40):
        page.keyboard.press("j")
        if page.locator(f"[data-nav-item].is-selected[href='/issues/{key}/']").count():
            return
    raise AssertionError(f"J never reached {key}")


def test_it_fits_the_bulk_bar_and_its_picker_in_a_phone_screen(
    phone: Page, mesa: Server, seeded: dict[str, str]
) -> None:
    phone.goto(mesa.url + "/issues/")
    select_card(phone, seeded["issue"])
    phone.keyboard.press("x")
    bar = phone.locator("#bulk-bar")
    expect(bar).to_contain_text("1 selected")
    assert_fits(phone, "the bulk bar", bar)
    bar.get_by_role("button", name="Work block").click()
    assert_fits(phone, "the picker", phone.locator(".picker-pop"))
    phone.keyboard.press("Escape")
    bar.get_by_role("button", name="Labels").click()
    assert_fits(phone, "the labels picker", phone.locator(".picker-pop"))


def test_it_fits_the_peek_panel_in_a_phone_screen(phone: Page, mesa: Server, seeded: dict[str, str]) -> None:
    phone.goto(mesa.url + "/issues/")
    select_card(phone, seeded["issue"])
    phone.keyboard.press("Space")
    panel = phone.locator("#peek-panel")
    expect(panel.locator(".peek-title")).to_contain_text("Unbreakable")
    assert_fits(phone, "the peek panel", panel)


def test_it_fits_the_add_issues_dialog_in_a_phone_screen(phone: Page, mesa: Server, seeded: dict[str, str]) -> None:
    candidate = run_python(mesa.db, SEED_CANDIDATE).strip()
    phone.goto(f"{mesa.url}/blocks/{seeded['block']}/")
    phone.get_by_role("button", name="Add issues").click()
    dialog = phone.locator("dialog#add-issues")
    expect(dialog.locator(f"input[value='{candidate}']")).to_be_attached()
    assert_fits(phone, "the Add issues dialog", dialog)
    assert_fits(phone, "a row of the Add issues dialog", dialog.locator(".pick-row", has_text=candidate))

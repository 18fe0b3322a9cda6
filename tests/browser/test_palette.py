"""The palette on an issue page (its actions first, recent issues, copy link / branch, sub-issue) and live search.

Issue 12, Feel: "Palette" and "Live search".
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server
from tests.browser.test_dashboard import make_issue, open_live

pytestmark = pytest.mark.browser


def palette_labels(page: Page) -> list[str]:
    items = page.locator("#mesa-palette .palette-item")
    expect(items.first).to_be_visible()
    return [t.strip() for t in items.all_inner_texts()]


def test_it_lists_the_current_issues_actions_first(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Palette on an issue")
    open_live(page, f"{mesa.url}/issues/{key}/")
    page.keyboard.press("Control+k")
    expect(page.locator("#mesa-palette .palette-item").nth(6)).to_be_visible()
    labels = palette_labels(page)
    assert labels[0].startswith(f"Set status… ({key})"), labels
    first_search_hit = next(i for i, label in enumerate(labels) if label.endswith("page"))
    for action in ("Copy link", "Copy branch name", "Create sub-issue", "Set priority"):
        index = next(i for i, label in enumerate(labels) if label.startswith(action))
        assert index < first_search_hit, (action, labels)
    page.keyboard.type("copy branch")
    expect(page.locator("#mesa-palette .palette-item").first).to_contain_text(f"mesa/{key}")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text(f"mesa/{key}")


def test_it_copies_the_link_and_starts_a_sub_issue(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Copy my link")
    open_live(page, f"{mesa.url}/issues/{key}/")
    page.keyboard.press("Control+k")
    page.keyboard.type("copy link")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text(f"/issues/{key}/")
    page.keyboard.press("Control+k")
    page.keyboard.type("create sub")
    expect(page.locator("#mesa-palette .palette-item").first).to_contain_text("Create sub-issue")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Sub-issue title")).to_be_focused()


def test_it_offers_recently_opened_issues(page: Page, mesa: Server) -> None:
    seen = make_issue(mesa, "Recently seen zebra")
    here = make_issue(mesa, "Where I am now")
    for n in range(12):  # push the first one out of the "latest issues" the server lists for an empty query
        make_issue(mesa, f"Filler issue {n}")
    page.goto(f"{mesa.url}/issues/{seen}/")
    open_live(page, f"{mesa.url}/issues/{here}/")
    page.keyboard.press("Control+k")
    items = page.locator("#mesa-palette .palette-item")
    recent = items.filter(has_text="Recently seen zebra")
    expect(recent).to_have_count(1)
    expect(recent).to_contain_text("recent")


def test_it_filters_the_board_from_the_one_search_box(page: Page, mesa: Server) -> None:
    make_issue(mesa, "Findable quokka")
    make_issue(mesa, "Something else entirely")
    open_live(page, mesa.url + "/issues/")
    expect(page.locator("#filter-q")).to_be_hidden()  # one search box on the issues page
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type("quokka")
    expect(page.locator(".card-title", has_text="Something else entirely")).to_have_count(0)
    expect(page.locator(".card-title", has_text="Findable quokka")).to_be_visible()
    assert "/issues/" in page.url and "q=quokka" in page.url


def test_it_lists_live_results_elsewhere(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Dropdown wombat")
    open_live(page, mesa.url + "/agents/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    page.keyboard.type("wombat")
    results = page.locator("#search-results")
    expect(results).to_contain_text("Dropdown wombat")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/issues/{key}/")

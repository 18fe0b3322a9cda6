"""J/K selection (issue 12, bug 17)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server
from tests.browser.test_dashboard import make_issue, open_live

pytestmark = pytest.mark.browser

OUTLINE = "e => getComputedStyle(e).outlineStyle"


def test_it_highlights_the_whole_card_with_j(page: Page, mesa: Server) -> None:
    make_issue(mesa, "Select me with the keyboard")
    open_live(page, mesa.url + "/issues/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    title = page.locator(".card-title.is-selected")
    expect(title).to_have_count(1)
    card = page.locator(".card", has=title)
    assert card.evaluate(OUTLINE) == "solid"
    assert title.evaluate(OUTLINE) == "none"


def test_it_lists_every_working_key_in_the_shortcuts_overlay(page: Page, mesa: Server) -> None:
    page.goto(mesa.url + "/issues/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    overlay = page.locator("dialog#mesa-shortcuts")
    expect(overlay).to_be_visible()
    keys = overlay.locator("dt kbd").all_inner_texts()
    for key in ["L", "X", "Shift+click", "Space", "E", "S", "A", "P", "J / K", "?"]:
        assert key in keys, f"{key} missing from the shortcuts overlay: {keys}"
    expect(overlay).to_contain_text("Labels")
    expect(overlay).to_contain_text("bulk")

"""The board at 1440 px (issue 12, bug 14): no sideways scroll, one-line filter bar, a compact backlog button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, run_python
from tests.browser.test_dashboard import make_issue, open_live

pytestmark = pytest.mark.browser

BLOCK = """
from orgs.models import Org
from orgs.actors import Actor
from blocks.services import work_block_create
org = Org.objects.get(slug="mesa")
work_block_create(actor=Actor.system("seed"), org=org, title="A work block with a really quite long name indeed")
"""


def test_it_fits_the_board_and_its_filters_in_1440_pixels(page: Page, mesa: Server) -> None:
    run_python(mesa.db, BLOCK)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{mesa.url}/issues/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    board = page.locator("#board-columns")
    assert board.evaluate("b => b.scrollWidth <= b.clientWidth"), "the board scrolls sideways"
    toolbar = page.locator("#board-filters")
    # The filters are menu buttons (static/js/pickers.js opens them): one line of them.
    select = toolbar.locator("[data-picker-summary]").first.bounding_box()
    assert select is not None
    assert toolbar.bounding_box()["height"] < select["height"] * 2  # type: ignore[index]
    page.locator("#backlog-box summary").click()
    form = page.locator("#backlog-box form").bounding_box()
    button = page.get_by_role("button", name="Add to backlog").bounding_box()
    assert form and button and button["width"] < form["width"] / 3


def test_it_reorders_cards_within_a_column_and_keeps_the_order(page: Page, mesa: Server) -> None:
    first = make_issue(mesa, "Reorder urgent one", priority=4)
    second = make_issue(mesa, "Reorder low one", priority=1)
    open_live(page, mesa.url + "/issues/?q=Reorder")
    cards = page.locator(".column[data-status='todo'] .card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_have_attribute("data-key", first)
    page.locator(f".card[data-key='{second}']").drag_to(
        page.locator(f".card[data-key='{first}']"), target_position={"x": 20, "y": 3}
    )
    expect(cards.first).to_have_attribute("data-key", second)
    page.reload()
    expect(page.locator(".column[data-status='todo'] .card").first).to_have_attribute("data-key", second)

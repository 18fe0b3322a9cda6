"""The board at 1440 px (issue 12, bug 14): no sideways scroll, one-line filter bar, a compact backlog button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.server import Server, run_python

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
    select = toolbar.locator("select").first.bounding_box()
    assert select is not None
    assert toolbar.bounding_box()["height"] < select["height"] * 2  # type: ignore[index]
    page.locator("#backlog-box summary").click()
    form = page.locator("#backlog-box form").bounding_box()
    button = page.get_by_role("button", name="Add to backlog").bounding_box()
    assert form and button and button["width"] < form["width"] / 3

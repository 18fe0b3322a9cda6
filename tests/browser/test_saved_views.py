"""Saved views: the board's filters, grouping, ordering and display under a name (issue 12, Feel)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server
from tests.browser.test_dashboard import make_issue, open_live

pytestmark = pytest.mark.browser


def test_it_saves_lists_opens_and_deletes_a_view(page: Page, mesa: Server) -> None:
    make_issue(mesa, "Saved view tau urgent", priority=4)
    make_issue(mesa, "Saved view tau low", priority=1)
    open_live(page, mesa.url + "/issues/?q=tau&view=list&group=priority")
    # Choose a second filter in the toolbar, so the view saves what the address bar says now.
    page.locator("[data-picker-menu=priority] > summary").click()
    page.keyboard.type("urgent")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"priority=4"))
    expect(page.locator(".list-row[data-key]")).to_have_count(1)
    page.get_by_label("View name").fill("Urgent tau")
    page.get_by_role("button", name="Save view").click()
    toolbar_link = page.locator("#saved-views [data-saved-view='Urgent tau']")
    sidebar_link = page.locator(".sidebar [data-saved-view-nav='Urgent tau']")
    expect(toolbar_link).to_be_visible()
    expect(sidebar_link).to_be_visible()
    # Elsewhere, the sidebar opens the view: same filters, grouping and display.
    page.goto(mesa.url + "/agents/")
    page.locator(".sidebar [data-saved-view-nav='Urgent tau']").click()
    expect(page).to_have_url(re.compile(r"q=tau"))
    expect(page).to_have_url(re.compile(r"priority=4"))
    expect(page).to_have_url(re.compile(r"group=priority"))
    expect(page).to_have_url(re.compile(r"view=list"))
    expect(page.locator(".list-row[data-key]")).to_have_count(1)
    expect(page.locator("[data-picker-menu=priority] > summary")).to_have_text("Priority: Urgent")
    page.get_by_role("button", name="Delete view Urgent tau").click()
    expect(page.locator("#saved-views [data-saved-view='Urgent tau']")).to_have_count(0)
    expect(page.locator(".sidebar [data-saved-view-nav='Urgent tau']")).to_have_count(0)

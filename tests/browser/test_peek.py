"""Peek (Space on a card or row) and creating without leaving the page (issue 12, Feel)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, run_python
from tests.browser.test_dashboard import assert_not_reloaded, make_issue, open_live

pytestmark = pytest.mark.browser


def select(page: Page, key: str) -> None:
    """J until the card (or row) of ``key`` is the selected one."""
    page.locator("body").click(position={"x": 5, "y": 5})
    for _ in range(60):
        page.keyboard.press("j")
        if page.locator(f"[data-nav-item].is-selected[href='/issues/{key}/']").count():
            return
    raise AssertionError(f"J never reached {key}")


def test_it_peeks_with_space_follows_j_k_and_closes_with_esc(page: Page, mesa: Server) -> None:
    first = make_issue(mesa, "Peek first card")
    make_issue(mesa, "Peek second card")
    open_live(page, mesa.url + "/issues/")
    select(page, first)
    page.keyboard.press("Space")
    panel = page.locator("#peek-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".peek-title")).to_have_text("Peek first card")
    expect(panel.locator("[data-peek-status]")).not_to_be_empty()
    expect(panel.locator(f"a[href='/issues/{first}/']")).to_be_visible()
    # The panel follows J / K (whichever way there is another card).
    page.keyboard.press("k")
    if page.locator(f"[data-nav-item].is-selected[href='/issues/{first}/']").count():
        page.keyboard.press("j")
    href = page.locator("[data-nav-item].is-selected").get_attribute("href") or ""
    assert href != f"/issues/{first}/"
    expect(panel.locator("[data-peek-key]")).to_have_attribute("data-peek-key", href.strip("/").split("/")[-1])
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert page.url.endswith("/issues/")
    assert_not_reloaded(page)


def test_it_peeks_at_a_list_row(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Peek from the list")
    open_live(page, mesa.url + "/issues/?view=list")
    select(page, key)
    page.keyboard.press("Space")
    expect(page.locator("#peek-panel .peek-title")).to_have_text("Peek from the list")


def test_it_creates_from_the_modal_and_stays_on_the_board(page: Page, mesa: Server) -> None:
    open_live(page, mesa.url + "/issues/")
    page.keyboard.press("c")
    dialog = page.locator("dialog#quick-create")
    dialog.locator("input[name=title]").fill("Stay where you are")
    dialog.locator("input[name=title]").press("Enter")
    toast = page.locator("#toasts [data-created]")
    expect(toast).to_contain_text("Stay where you are")
    link = toast.locator("a")
    expect(link).to_have_attribute("href", f"/issues/{toast.get_attribute('data-created')}/")
    expect(dialog).to_be_hidden()
    expect(page.locator(".card-title", has_text="Stay where you are")).to_be_visible()  # live on the board
    assert page.url.endswith("/issues/")
    assert_not_reloaded(page)


def test_it_adds_a_sub_issue_and_stays_on_the_issue(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Parent of a quick child")
    open_live(page, f"{mesa.url}/issues/{key}/")
    box = page.get_by_label("Sub-issue title")
    box.fill("A quick child")
    box.press("Enter")
    expect(page.locator("#toasts [data-created]")).to_contain_text("A quick child")
    expect(page.locator("#issue-children")).to_contain_text("A quick child")
    expect(box).to_have_value("")
    assert page.url.endswith(f"/issues/{key}/")
    assert_not_reloaded(page)


SET_TITLE_AND_STATUS = """
from orgs.actors import Actor
from issues.models import Issue
from issues.services import issue_edit
issue_edit(actor=Actor.system("seed"), issue=Issue.objects.get(key={key!r}), title="Renamed while peeking")
issue_edit(actor=Actor.system("seed"), issue=Issue.objects.get(key={key!r}), status="blocked")
"""


def test_it_refreshes_the_open_panel_on_live_updates(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Peek before the change")
    open_live(page, mesa.url + "/issues/")
    select(page, key)
    page.keyboard.press("Space")
    panel = page.locator("#peek-panel")
    expect(panel.locator(".peek-title")).to_have_text("Peek before the change")
    expect(panel.locator("[data-peek-status]")).to_contain_text("Todo")
    run_python(mesa.db, SET_TITLE_AND_STATUS.format(key=key))
    expect(panel.locator(".peek-title")).to_have_text("Renamed while peeking")
    expect(panel.locator("[data-peek-status]")).to_contain_text("Blocked")
    assert_not_reloaded(page)

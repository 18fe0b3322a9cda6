"""Creating issues: titles, the modal's errors, Cmd/Ctrl+Enter (issue 12, bugs 7, 12 and 13)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, run_python
from tests.browser.test_dashboard import make_issue, open_live

pytestmark = pytest.mark.browser

COUNT = "from issues.models import Issue\nprint(Issue.objects.filter(title__startswith={prefix!r}).count())"


def paste(page: Page, selector: str, text: str) -> None:
    page.locator(selector).evaluate(
        """(input, text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            input.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
        }""",
        text,
    )


def test_it_counts_the_title_and_moves_an_overlong_paste_into_the_description(page: Page, mesa: Server) -> None:
    open_live(page, mesa.url + "/issues/")
    page.keyboard.press("c")
    dialog = page.locator("dialog#quick-create")
    title = dialog.locator("input[name=title]")
    title.fill("word " * 55)
    expect(dialog.locator("[data-title-counter]")).to_have_text("275 / 300")
    title.fill("")
    text = "Investigate " + "the flaky integration suite " * 14 + "tail-end-words"
    paste(page, "dialog#quick-create input[name=title]", text)
    value = title.input_value()
    assert 250 < len(value) <= 300
    assert text.startswith(value) and text[len(value)] == " ", "cut at a word boundary"
    expect(dialog.locator("textarea[name=description]")).to_have_value(text[len(value) :].strip())


def test_it_clamps_a_long_title_on_a_board_card(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Clamp " + "a rather long title that goes on " * 8)
    page.goto(mesa.url + "/issues/")
    card_title = page.locator(f".card[data-key='{key}'] .card-title")
    line = float(card_title.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert card_title.bounding_box()["height"] <= line * 3 + 1  # type: ignore[index]


def test_it_refuses_a_blank_title_inside_the_modal(page: Page, mesa: Server) -> None:
    open_live(page, mesa.url + "/issues/")
    page.keyboard.press("c")
    dialog = page.locator("dialog#quick-create")
    dialog.locator("input[name=title]").fill("   ")
    dialog.locator("input[name=title]").press("Enter")
    expect(dialog.locator("[data-title-error]")).to_have_text("An issue needs a title.")
    expect(dialog).to_be_visible()
    assert page.url.rstrip("/").endswith("/issues")


def test_it_submits_the_create_modal_with_ctrl_enter(page: Page, mesa: Server) -> None:
    open_live(page, mesa.url + "/issues/")
    page.keyboard.press("c")
    dialog = page.locator("dialog#quick-create")
    dialog.locator("input[name=title]").fill("Sent with ctrl enter")
    dialog.locator("textarea[name=description]").fill("From the description box")
    dialog.locator("textarea[name=description]").press("Control+Enter")
    # Creating keeps you where you are (issue 12, Feel): a toast links to the new issue.
    expect(page.locator("#toasts [data-created]")).to_contain_text("Sent with ctrl enter")
    assert run_python(mesa.db, COUNT.format(prefix="Sent with ctrl enter")).strip() == "1"


def test_it_sends_a_comment_with_ctrl_enter(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Comment with the keyboard")
    open_live(page, f"{mesa.url}/issues/{key}/")
    box = page.locator("textarea[name=body]").first
    box.fill("Sent from the keyboard")
    box.press("Control+Enter")
    expect(page.locator("#comments ~ *").get_by_text("Sent from the keyboard").first).to_be_visible()
    out = run_python(
        mesa.db,
        "from issues.models import Comment\nprint(Comment.objects.filter(body='Sent from the keyboard').count())",
    )
    assert out.strip() == "1"

"""Inline editing of title and description, markdown preview, lost-update protection and @-mentions (issue 12)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, run_python
from tests.browser.test_dashboard import assert_not_reloaded, make_issue, open_live

pytestmark = pytest.mark.browser

FIELDS = "from issues.models import Issue\ni = Issue.objects.get(key={key!r})\nprint(repr((i.title, i.description)))"
THEIRS = """
from orgs.actors import Actor
from issues.models import Issue
from issues.services import issue_update
issue_update(actor=Actor.system("seed"), issue=Issue.objects.get(key={key!r}), description="their change")
"""
GHOST = """
from orgs.models import Org
from agents.models import Agent
org = Org.objects.get(slug="mesa")
ghost = dict(name="Ghostwriter", runner="command", model="no-such-cli-xyz")
Agent.objects.get_or_create(org=org, slug="ghostwriter", defaults=ghost)
"""


def test_it_edits_the_title_in_place_and_saves_with_ctrl_enter(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Edit me in place")
    open_live(page, f"{mesa.url}/issues/{key}/")
    page.locator("h1.issue-title").click()
    title = page.locator("[data-editor] input[name=title]")
    expect(title).to_be_focused()
    title.fill("Edited in place")
    title.press("Control+Enter")
    expect(page.locator("h1.issue-title")).to_have_text("Edited in place")
    expect(page.locator("[data-editor]")).to_be_hidden()
    assert "Edited in place" in run_python(mesa.db, FIELDS.format(key=key))
    assert_not_reloaded(page)


def test_it_opens_with_e_and_cancels_with_esc(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Cancel my edit")
    open_live(page, f"{mesa.url}/issues/{key}/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("e")
    title = page.locator("[data-editor] input[name=title]")
    expect(title).to_be_focused()
    title.fill("Never saved")
    title.press("Escape")
    expect(page.locator("[data-editor]")).to_be_hidden()
    expect(page.locator("h1.issue-title")).to_have_text("Cancel my edit")
    assert "Never saved" not in run_python(mesa.db, FIELDS.format(key=key))


def test_it_previews_the_description_with_the_servers_markdown(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Preview markdown")
    open_live(page, f"{mesa.url}/issues/{key}/")
    page.locator("[data-edit-open=description]").click()
    box = page.locator("[data-editor] textarea[name=description]")
    expect(box).to_be_focused()
    box.fill("Some **bold** words\n\n- [ ] a task")
    page.get_by_role("tab", name="Preview").click()
    preview = page.locator("[data-editor-preview]")
    expect(preview.locator("strong")).to_have_text("bold")
    expect(box).to_be_hidden()
    page.get_by_role("tab", name="Write").click()
    expect(box).to_be_visible()
    box.press("Control+Enter")
    expect(page.locator("#issue-main .md strong")).to_have_text("bold")


def test_it_refuses_a_save_over_someone_elses_change_and_keeps_the_text(page: Page, mesa: Server) -> None:
    key = make_issue(mesa, "Contested issue")
    open_live(page, f"{mesa.url}/issues/{key}/")
    page.locator("[data-edit-open=description]").click()
    box = page.locator("[data-editor] textarea[name=description]")
    box.fill("my careful words")
    run_python(mesa.db, THEIRS.format(key=key))  # someone else saves meanwhile (a live update arrives)
    page.wait_for_timeout(500)
    expect(box).to_have_value("my careful words")  # the live refresh did not wipe the editor
    box.press("Control+Enter")
    expect(page.locator("[data-edit-error=edit_conflict]")).to_contain_text("changed by someone else")
    expect(page.locator("[data-editor] textarea[name=description]")).to_have_value("my careful words")
    assert "their change" in run_python(mesa.db, FIELDS.format(key=key))


def test_it_autocompletes_mentions_and_says_whom_they_wake(page: Page, mesa: Server) -> None:
    run_python(mesa.db, GHOST)
    key = make_issue(mesa, "Mention someone")
    open_live(page, f"{mesa.url}/issues/{key}/")
    box = page.get_by_role("textbox", name="Comment")
    box.click()
    box.press_sequentially("Please look @de")
    options = page.locator(".mention-list [role=option]")
    expect(options.first).to_be_visible()
    expect(options.filter(has_text="Designer")).to_have_count(1)
    for _ in range(options.count()):
        if page.locator(".mention-list .is-selected[data-slug=designer]").count():
            break
        box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value("Please look @designer ")
    notes = page.locator("#issue-comments [data-mention-notes]")
    expect(notes).to_contain_text("This wakes @designer")
    box.press_sequentially("and @ghostwriter and @nobody-here")
    expect(notes.locator("[data-mention=ghostwriter]")).to_contain_text("needs setup")
    expect(notes.locator("[data-mention=nobody-here]")).to_contain_text("not an agent")

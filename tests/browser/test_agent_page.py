"""The agent page after a save, and its form's labels (issue 12, bugs 3 and 6)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server
from tests.browser.test_dashboard import an_agent, assert_not_reloaded, open_live

pytestmark = pytest.mark.browser


def test_it_shows_the_new_version_in_the_header_and_table_after_a_save(page: Page, mesa: Server) -> None:
    slug = an_agent(mesa)
    open_live(page, f"{mesa.url}/agents/{slug}/")
    header = page.locator("#agent-header-line")
    current = int(re.search(r"· v(\d+)", header.inner_text()).group(1))  # type: ignore[union-attr]
    form = page.locator("form#agent-config")
    form.locator("input[name=max_turns]").fill("77")
    form.get_by_role("button", name="Save configuration").click()
    expect(page.locator("form#agent-config")).to_contain_text(f"Saved as v{current + 1}")
    expect(header).to_contain_text(f"v{current + 1}")
    first = page.locator("#agent-versions tbody tr").first
    expect(first).to_contain_text(f"v{current + 1}")
    expect(first).to_contain_text("max_turns")
    expect(first).to_contain_text("current")
    assert_not_reloaded(page)


@pytest.mark.parametrize("where", ["agent form", "add an agent"])
def test_it_labels_the_model_field_command_for_the_command_runner(page: Page, mesa: Server, where: str) -> None:
    if where == "agent form":
        page.goto(f"{mesa.url}/agents/{an_agent(mesa)}/")
        form = page.locator("form#agent-config")
    else:
        page.goto(f"{mesa.url}/agents/")
        page.get_by_text("Add an agent").click()
        form = page.locator("form:has(input[name=slug])")
    form.locator("select[name=runner]").select_option("command")
    field = form.locator("label.field:has(input[name=model])")
    expect(field).to_contain_text("Command")
    expect(field).not_to_contain_text("Model")
    expect(field.locator("input")).not_to_have_attribute("placeholder", re.compile("default"))
    form.locator("select[name=runner]").select_option("dry_run")
    expect(field).to_contain_text("Model")

"""Admin in the browser (issue 12): API keys, archived issues, labels, agents, wiki pages, the profile."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, prepare_db, run_python, start_daphne
from tests.browser.test_dashboard import make_issue

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: these tests archive agents and labels other browser tests rely on."""
    directory = tmp_path_factory.mktemp("mesa-admin")
    db = prepare_db(directory)
    server = start_daphne(db, directory / "daphne.log")
    yield server
    server.stop()


def accept_confirms(page: Page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())


def test_it_creates_an_api_key_showing_the_secret_once(page: Page, own: Server) -> None:
    page.goto(own.url + "/settings/")
    form = page.locator("#key-new")
    form.locator("input[name=name]").fill("ci-browser")
    form.get_by_role("button", name="Create key").click()
    secret = page.locator("#key-secret").input_value()
    assert re.fullmatch(r"mesa_board_[A-Za-z0-9_-]{20,}", secret)
    page.get_by_role("link", name="Done").click()
    row = page.locator("#keys tr", has_text="ci-browser")
    expect(row).to_contain_text(secret[:14] + "…")
    assert secret not in page.content()
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator("#keys tr", has_text="ci-browser")).to_have_count(0)


def test_it_archives_an_issue_and_restores_it_from_the_archived_view(page: Page, own: Server) -> None:
    key = make_issue(own, "Archive me in the browser")
    accept_confirms(page)
    page.goto(own.url + f"/issues/{key}/")
    page.get_by_test_id("issue-archive").click()
    expect(page.get_by_test_id("issue-archived")).to_be_visible()
    page.goto(own.url + "/issues/")
    expect(page.get_by_text("Archive me in the browser")).to_have_count(0)
    page.goto(own.url + "/issues/archived/")
    row = page.locator(f".archived-issue[data-key='{key}']")
    row.get_by_role("button", name="Restore").click()
    expect(page.get_by_test_id("issue-archive")).to_be_visible()
    page.goto(own.url + "/issues/")
    expect(page.get_by_text("Archive me in the browser").first).to_be_visible()


def test_it_renames_recolours_archives_and_restores_a_label(page: Page, own: Server) -> None:
    page.goto(own.url + "/settings/")
    page.get_by_test_id("manage-labels").click()
    page.fill("#labels-page input[aria-label='New label name']", "triage")
    page.locator("#labels-page").get_by_role("button", name="Add label").click()
    row = page.locator("tr[data-label=triage]")
    row.locator("input[name=name]").fill("needs-triage")
    row.locator("input[type=color]").fill("#00aa55")
    row.get_by_role("button", name="Save").click()
    renamed = page.locator("tr[data-label=needs-triage]")
    expect(renamed.locator("input[type=color]")).to_have_value("#00aa55")
    renamed.get_by_role("button", name="Archive").click()
    archived = page.locator("[data-archived-label=needs-triage]")
    expect(archived).to_be_visible()
    archived.get_by_role("button", name="Restore").click()
    expect(page.locator("tr[data-label=needs-triage]")).to_be_visible()


def test_it_archives_an_agent_and_restores_it(page: Page, own: Server) -> None:
    accept_confirms(page)
    slug = run_python(own.db, "from agents.models import Agent\nprint(Agent.objects.get(slug='designer').slug)")
    slug = slug.strip()
    page.goto(own.url + f"/agents/{slug}/")
    page.get_by_test_id("agent-archive").click()
    page.goto(own.url + "/agents/")
    archived = page.locator("#agents-archived")
    expect(archived).to_contain_text(slug)
    expect(page.locator(f"dialog#quick-create option[value={slug}]")).to_have_count(0)
    archived.get_by_role("button", name="Restore").click()
    expect(page.locator(".pill", has_text="paused")).to_be_visible()
    page.goto(own.url + "/agents/")
    expect(page.locator("#agents-archived")).to_have_count(0)


def test_it_deletes_a_wiki_page_and_restores_it_from_deleted_pages(page: Page, own: Server) -> None:
    code = (
        "from orgs.models import Org\nfrom orgs.actors import Actor\nfrom wiki.services import wiki_page_create\n"
        "print(wiki_page_create(actor=Actor.system('seed'), org=Org.objects.get(slug='mesa'), title='Runbook').slug)"
    )
    slug = run_python(own.db, code).strip()
    accept_confirms(page)
    page.goto(own.url + f"/wiki/{slug}/")
    page.get_by_role("button", name="Delete").click()
    page.goto(own.url + "/wiki/")
    deleted = page.locator("#wiki-deleted")
    expect(deleted).to_contain_text("Runbook")
    deleted.get_by_role("button", name="Restore").click()
    page.goto(own.url + "/wiki/")
    expect(page.locator("#wiki-deleted")).to_have_count(0)


def test_it_explains_the_profile_in_local_mode_and_switches_the_theme(page: Page, own: Server) -> None:
    page.goto(own.url + "/")
    page.get_by_test_id("sidebar-profile").click()
    expect(page.get_by_test_id("profile-local")).to_contain_text("no user account")
    page.locator("input[name=theme-choice][value=light]").check()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    expect(page.locator("input[name=theme-choice][value=light]")).to_be_checked()

"""Orgs created in the browser (issue 12, "Orgs are created in the browser too")."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, prepare_db, run_python, start_daphne

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: these tests add orgs, which the shared server's tests do not expect."""
    directory = tmp_path_factory.mktemp("mesa-new-org")
    db = prepare_db(directory)
    server = start_daphne(db, directory / "daphne.log", MESA_REPOS_DIR=str(directory / "repos"))
    yield server
    server.stop()


def test_it_creates_an_org_from_the_sidebar_and_lands_on_its_dashboard(page: Page, own: Server) -> None:
    page.goto(own.url + "/")
    page.get_by_test_id("sidebar-new-org").click()
    expect(page).to_have_url(own.url + "/orgs/new/")
    template = page.locator("label.org-template[data-template=dev-team]")
    expect(template.locator(".org-template-agents .pill").first).to_be_visible()
    page.fill("input[name=name]", "Beta Works")
    page.fill("input[name=issue_prefix]", "BETA")
    template.locator("input[type=radio]").check()
    page.select_option("select[name=runner]", "noop")
    page.get_by_test_id("org-create").click()
    expect(page).to_have_url(own.url + "/")
    expect(page.locator("body")).to_have_attribute("data-org", "beta-works")
    expect(page.locator("select[name=org]")).to_have_value("beta-works")
    code = "from agents.models import Agent\nprint(Agent.objects.filter(org__slug='beta-works').count())"
    assert int(run_python(own.db, code)) > 0


def test_it_shows_a_taken_prefix_and_a_non_repository_inline_keeping_the_values(
    page: Page, own: Server, tmp_path: Path
) -> None:
    page.goto(own.url + "/settings/")
    page.get_by_test_id("settings-new-org").click()
    page.fill("input[name=name]", "Gamma")
    page.fill("input[name=issue_prefix]", "MESA")
    page.locator("label.org-template[data-template=blank] input").check()
    page.get_by_test_id("org-create").click()
    expect(page.get_by_test_id("prefix-error")).to_contain_text("already uses the prefix MESA")
    expect(page.locator("input[name=name]")).to_have_value("Gamma")
    expect(page.locator("label.org-template[data-template=blank] input")).to_be_checked()

    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    page.fill("input[name=issue_prefix]", "GAM")
    page.locator("input[name=repo_mode][value=existing]").check()
    page.fill("input[name=repo]", str(plain))
    page.get_by_test_id("org-create").click()
    expect(page.get_by_test_id("repo-error")).to_contain_text("is not a git repository")
    expect(page.locator("input[name=issue_prefix]")).to_have_value("GAM")

    subprocess.run(["git", "init", "-q", str(plain)], check=True)
    page.get_by_test_id("org-create").click()
    expect(page.locator("body")).to_have_attribute("data-org", "gamma")

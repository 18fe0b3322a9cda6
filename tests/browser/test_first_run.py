"""The first run (issue 12, "First run"): a fresh install whose agents point at a CLI that is not
installed shows them as needing setup, starts no run for them, and the banner's dry_run button makes
the next run succeed."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, manage, run_python, start_daphne

pytestmark = pytest.mark.browser

# No agent CLI on PATH: only the interpreter's directory and the system's (git, sh).
BARE_PATH = f"{Path(sys.executable).parent}:/usr/bin:/bin"

ASSIGN = """
from orgs.models import Org
from orgs.actors import Actor
from agents.models import Agent
from issues.services import issue_create
org = Org.objects.get(slug="mesa")
agent = Agent.objects.filter(org=org).exclude(archetype="ceo").order_by("id").first()
print(issue_create(actor=Actor.system("seed"), org=org, title={title!r}, assignee=agent).key)
"""

RUNS = """
from runners.models import Run
print(sorted(Run.objects.filter(issue__key={key!r}).values_list("status", flat=True)))
"""


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh database bootstrapped as `make run` does (agents on Claude Code), no CLI installed."""
    directory = tmp_path_factory.mktemp("mesa-first-run")
    db = directory / "mesa.db"
    manage(db, "migrate", "--noinput", "-v", "0", PATH=BARE_PATH)
    manage(db, "bootstrap", "--template", "startup", PATH=BARE_PATH)
    server = start_daphne(db, directory / "daphne.log", PATH=BARE_PATH)
    yield server
    server.stop()


def scheduler_once(server: Server) -> None:
    manage(server.db, "scheduler", "--once", "--timeout", "60", "--no-notifications", PATH=BARE_PATH)


def test_it_walks_a_new_user_through_the_first_run(page: Page, fresh: Server) -> None:
    assert not any(os.path.exists(os.path.join(d, "claude")) for d in BARE_PATH.split(":")), (
        "claude is installed here: this test needs a machine without it"
    )
    page.goto(fresh.url + "/")
    banner = page.locator("#setup-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("need setup")
    expect(banner).to_contain_text("claude is not installed")
    page.goto(fresh.url + "/agents/")
    expect(page.locator("table").get_by_text("needs setup").first).to_be_visible()
    page.keyboard.press("c")
    picker = page.locator("dialog#quick-create select[name=assignee]")
    expect(picker.locator("option", has_text="(needs setup)").first).to_be_attached()
    page.keyboard.press("Escape")

    key = run_python(fresh.db, ASSIGN.format(title="First task"), PATH=BARE_PATH).strip()
    scheduler_once(fresh)
    assert run_python(fresh.db, RUNS.format(key=key)).strip() == "[]", "a run started for a needs-setup agent"

    page.goto(fresh.url + "/")
    page.locator("#setup-banner").get_by_role("button", name="Use dry_run").click()
    expect(page.locator("#setup-banner")).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("now use dry_run")

    key = run_python(fresh.db, ASSIGN.format(title="Second task"), PATH=BARE_PATH).strip()
    scheduler_once(fresh)
    assert run_python(fresh.db, RUNS.format(key=key)).strip() == "['completed']"

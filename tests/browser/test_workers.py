"""Settings › Runners › Workers in the browser (local mode: the person at the machine is the operator)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import Server, prepare_db, run_python, start_daphne

pytestmark = pytest.mark.browser

ADD_ONE = """
from agents.models import Agent
from orgs.actors import Actor
from runners.workers import WorkerFile, worker_add
agent = Agent.objects.select_related("org").order_by("slug").first()
Agent.objects.filter(pk=agent.pk).update(sandbox="container")
worker_add(actor=Actor.system("tests"), spec=WorkerFile(name="shown-worker", org=agent.org.slug, agent=agent.slug))
print(agent.org.slug, agent.slug)
"""


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """A server of its own: a worker is added to its database."""
    directory = tmp_path_factory.mktemp("mesa-workers")
    db = prepare_db(directory)
    server = start_daphne(db, directory / "daphne.log")
    yield server, db
    server.stop()


def test_it_checks_a_worker_and_keeps_a_bad_spec_in_the_form(
    page: Page, own: tuple[Server, Path], screenshots: Path
) -> None:
    server, db = own
    org, agent = run_python(db, ADD_ONE).split()
    page.goto(server.url + "/settings/runners/")
    row = page.locator("#worker-list tr[data-worker=shown-worker]")
    expect(row).to_contain_text(agent)

    row.get_by_role("button", name="Check").click()  # htmx: the section is swapped in place
    expect(page.locator("#workers")).to_contain_text("Worker shown-worker: stopped.")

    spec = f'mounts = ["/etc"]\nname = "second"\norg = "{org}"\nagent = "{agent}"\n'
    form = page.locator("#worker-add")
    form.locator("textarea[name=spec]").fill(spec)
    form.get_by_role("button", name="Add worker").click()
    expect(page.locator("#worker-add .inline-error")).to_contain_text("`mounts` cannot be set")
    assert page.locator("#worker-add textarea[name=spec]").input_value() == spec
    page.locator("#workers").screenshot(path=str(screenshots / "runners-workers.png"))

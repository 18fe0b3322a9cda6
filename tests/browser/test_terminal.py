"""A PTY run's terminal on the run page: a member types into `cat` and sees the echo; a viewer cannot type.

The run executes in a separate process (the real ``execute_run``, as under ``manage.py scheduler``): the page's
WebSocket (daphne) reaches it only through the terminal files, the cross-process path.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.server import REPO, Server, mesa_env, prepare_db, run_python, start_daphne

pytestmark = pytest.mark.browser

PW = "pw-terminal-test-123"
SETUP = f"""
from django.contrib.auth import get_user_model
from agents.models import Agent
from agents.services import agent_update
from orgs.actors import Actor
from orgs.models import Org
from orgs.services import membership_set
from runners.models import Run
system = Actor.system()
org = Org.objects.get(slug="mesa")
users = get_user_model().objects
for name, role in [("mia", "member"), ("vic", "viewer")]:
    membership_set(actor=system, org=org, user=users.create_user(username=name, password="{PW}"), role=role)
agent = Agent.objects.filter(org=org).exclude(archetype="ceo").order_by("id").first()
agent = agent_update(actor=system, agent=agent, runner="command", model="cat", terminal="pty", sandbox="host")
print(Run.objects.create(org=org, agent=agent, runner="command", status="running").pk)
"""
INPUTS = """
from runners.models import RunEvent
for e in RunEvent.objects.filter(run_id={pk}, type="terminal_input").order_by("seq"):
    print(e.data["by"], repr(e.data["text"]))
"""
CANCEL = "from runners.models import Run\nRun.objects.filter(pk={pk}).update(cancel_requested=True)"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, int]]:
    directory: Path = tmp_path_factory.mktemp("mesa-terminal")
    db = prepare_db(directory)
    extra = {"MESA_TERMINALS_DIR": str(directory / "terminals"), "MESA_WORKSPACES_DIR": str(directory / "ws")}
    pk = int(run_python(db, SETUP, **extra).strip().splitlines()[-1])
    server = start_daphne(db, directory / "daphne.log", MESA_TRUSTED_LOCAL="0", **extra)
    code = f"import django; django.setup()\nfrom runners.execution import execute_run\nexecute_run({pk})"
    with (directory / "executor.log").open("wb") as log:
        executor = subprocess.Popen(
            [sys.executable, "-c", code], cwd=REPO, env=mesa_env(db, **extra), stdout=log, stderr=subprocess.STDOUT
        )
    yield server, pk
    run_python(db, CANCEL.format(pk=pk))
    try:
        executor.wait(timeout=20)
    except subprocess.TimeoutExpired:
        executor.kill()
    server.stop()


def login(browser: Browser, server: Server, username: str) -> Page:
    page = browser.new_context(viewport={"width": 1360, "height": 860}).new_page()
    page.goto(server.url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PW)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def test_a_member_types_into_the_runs_terminal_and_a_viewer_cannot(browser: Browser, live: tuple[Server, int]) -> None:
    server, pk = live
    mia = login(browser, server, "mia")
    mia.goto(f"{server.url}/runs/{pk}/")
    expect(mia.get_by_test_id("terminal-state")).to_have_text("live: you can type", timeout=15_000)
    vic = login(browser, server, "vic")
    vic.goto(f"{server.url}/runs/{pk}/")
    expect(vic.get_by_test_id("terminal-state")).to_have_text("live: watching (read only)", timeout=15_000)

    mia.get_by_test_id("terminal").click()
    mia.keyboard.type("hello mesa")
    mia.keyboard.press("Enter")
    screen = mia.locator("#run-terminal .xterm-rows")
    # The terminal echoes the keystrokes and cat writes the line back: the text is on screen twice.
    expect(screen).to_contain_text("hello mesahello mesa", timeout=15_000)
    expect(vic.locator("#run-terminal .xterm-rows")).to_contain_text("hello mesa")

    vic.get_by_test_id("terminal").click()
    vic.keyboard.type("sneaky")
    vic.keyboard.press("Enter")
    mia.get_by_test_id("terminal").click()
    mia.keyboard.type("after")
    mia.keyboard.press("Enter")
    expect(vic.locator("#run-terminal .xterm-rows")).to_contain_text("afterafter", timeout=15_000)
    assert "sneaky" not in vic.locator("#run-terminal .xterm-rows").inner_text()
    typed = run_python(server.db, INPUTS.format(pk=pk), **server.extra).strip().splitlines()
    assert typed == ["mia 'hello mesa\\r'", "mia 'after\\r'"]

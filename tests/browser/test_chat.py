"""Chat round trip in a real browser: a message wakes the CEO (dry_run) through a real scheduler, and the
reply appears in the page live, without a reload; then the reply becomes an issue in one click."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.server import REPO, Server, mesa_env, prepare_db, run_python, start_daphne


@pytest.fixture(scope="module")
def chat_mesa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # A server of its own: the CEO answers with the dry_run runner here, not noop as in the shared one.
    directory = tmp_path_factory.mktemp("mesa-chat")
    db = prepare_db(directory)
    run_python(db, "from agents.models import Agent\nAgent.objects.filter(slug='ceo').update(runner='dry_run')")
    server = start_daphne(db, directory / "daphne.log")
    log = (directory / "scheduler.log").open("wb")
    scheduler = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "scheduler", "--no-notifications"],
        cwd=REPO,
        env=mesa_env(
            db,
            MESA_WORKSPACES_DIR=str(directory / "ws"),
            MESA_WORKTREES_DIR=str(directory / "wt"),
            MESA_LOG_LEVEL="INFO",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # The scheduler reads the feed from where it is when it starts: wait for it before chatting.
    deadline = time.monotonic() + 60
    while "started" not in (directory / "scheduler.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    yield server
    scheduler.terminate()
    try:
        scheduler.wait(timeout=15)
    except subprocess.TimeoutExpired:
        scheduler.kill()
        scheduler.wait()
    log.close()
    server.stop()


def test_it_chats_with_the_ceo_and_turns_the_reply_into_an_issue(page: Page, chat_mesa: Server, tmp_path: Path) -> None:
    page.goto(chat_mesa.url + "/chat/")
    page.wait_for_url("**/chat/ceo/")
    expect(page.locator("html")).to_have_attribute("data-live", "on", timeout=10_000)
    page.evaluate("window.__noReload = true")

    page.locator("#chat-form textarea[name=body]").fill("Should we launch on Monday?")
    page.locator("#chat-form button").click()
    log = page.locator("#chat-messages")
    expect(log.locator("[data-role=human]")).to_contain_text("Should we launch on Monday?")
    reply = log.locator("[data-role=agent]")
    expect(reply).to_contain_text("dry run reply to: HUMAN (local): Should we launch on Monday?", timeout=30_000)
    assert page.evaluate("window.__noReload === true"), "the page reloaded"

    reply.get_by_role("button", name="Make an issue").click()
    page.wait_for_url("**/issues/MESA-*/")
    expect(page.locator(".issue-title")).to_contain_text("dry run reply to: HUMAN (local)")

"""Issue 16 item 6, replayed against a live daphne: trusted local mode trusted any local process.

The attack: with no credentials, a process on the host opened the dashboard, took the CSRF token and
acted as the board (it created a `command` agent; it decided an approval as "local"). Now local mode
needs the one-time login link that `make run` (or `manage.py login-link`) prints: without it pages
answer 401 and nothing is written; the link works once; a run's environment never carries it.
"""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.server import Server, manage, prepare_db, run_python, start_daphne


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("mesa-local-login")
    server = start_daphne(
        prepare_db(directory),
        directory / "daphne.log",
        MESA_LOCAL_LOGIN="1",
        MESA_LOCAL_LOGIN_FILE=str(directory / "local-login.sha256"),
    )
    yield server
    server.stop()


def browser() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def status_of(opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None) -> tuple[int, str]:
    try:
        with opener.open(url, data=data, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def login_link(server: Server) -> str:
    return manage(server.db, "login-link", PORT=str(server.port), **server.extra).strip().splitlines()[-1]


def issue_count(server: Server) -> int:
    return int(run_python(server.db, "from issues.models import Issue\nprint(Issue.objects.count())").strip())


def test_a_local_process_without_the_link_gets_nothing(local: Server) -> None:
    intruder = browser()
    status, body = status_of(intruder, f"{local.url}/")
    assert status == 401 and "Open your login link" in body
    assert "csrfmiddlewaretoken" not in body  # no form, no token to replay
    before = issue_count(local)
    form = urllib.parse.urlencode({"title": "Planted by a local process"}).encode()
    assert status_of(intruder, f"{local.url}/issues/new", form)[0] == 401
    assert issue_count(local) == before
    assert status_of(intruder, f"{local.url}/events")[0] == 401
    assert status_of(intruder, f"{local.url}/palette/search?q=a")[0] == 401


def test_the_printed_link_signs_the_browser_in_once(local: Server) -> None:
    link = login_link(local)
    assert link.startswith(f"{local.url}/login/local?token=")
    person = browser()
    status, body = status_of(person, link)  # redirected to the dashboard, now with the local session
    assert status == 200 and "Open your login link" not in body and "Dashboard" in body
    assert status_of(person, f"{local.url}/agents/")[0] == 200

    status, body = status_of(browser(), link)  # the same link, another process
    assert status == 401 and "not valid any more" in body


def test_a_runs_environment_never_carries_the_link(local: Server, tmp_path: Path) -> None:
    token = login_link(local).rsplit("token=", 1)[1]
    code = (
        "from pathlib import Path\nfrom agents.models import Agent\nfrom runners.run_env import build_env\n"
        "from runners.models import Run\nagent = Agent.objects.exclude(archetype='ceo').first()\n"
        "run = Run.objects.create(org=agent.org, agent=agent)\n"
        f"env = build_env(agent=agent, run=run, issue=None, api_key='k', workdir=Path({str(tmp_path)!r}))\n"
        "print('\\n'.join(f'{k}={v}' for k, v in env.items()))"
    )
    env = run_python(local.db, code, **local.extra)
    assert token not in env and "MESA_LOCAL_LOGIN" not in env

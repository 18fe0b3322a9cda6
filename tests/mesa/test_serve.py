"""`make run`'s server: one command serves HTTP and runs the scheduler, and stops both together."""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.browser.server import REPO, manage, mesa_env, reserved_port


def _wait(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _runs(db: Path) -> list[str]:
    out = manage(
        db,
        "shell",
        "-c",
        "import json; from runners.models import Run; print(json.dumps([r.status for r in Run.objects.all()]))",
    )
    return list(json.loads(out.strip().splitlines()[-1]))


def test_it_bootstraps_serves_runs_agents_and_stops_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "mesa.db"
    with reserved_port() as port:
        _serve_and_check(tmp_path, db, port)


def _serve_and_check(tmp_path: Path, db: Path, port: int) -> None:
    # The bootstrap creates the org's git repository, and runs get worktrees of it: both in the test's tmp dir.
    env = mesa_env(
        db,
        PORT=str(port),
        SECRET_KEY="test-not-secret",
        MESA_REPOS_DIR=str(tmp_path / "repos"),
        MESA_WORKTREES_DIR=str(tmp_path / "worktrees"),
        # Local mode as `make run` has it: pages need the printed one-time login link.
        MESA_LOCAL_LOGIN="1",
        MESA_LOCAL_LOGIN_FILE=str(tmp_path / "local-login.sha256"),
        # Web and scheduler in one process; the worker pool is the next test's.
        MESA_WEB_WORKERS="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "mesa.serve"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:

        def home_ok() -> bool:
            try:
                with browser.open(f"http://127.0.0.1:{port}/agents/", timeout=2) as resp:
                    return resp.status == 200 and b"Founding Engineer" in resp.read()
            except urllib.error.HTTPError as exc:
                if exc.code == 401:  # not signed in: a fresh link, as `manage.py login-link` gives the user
                    link = manage(db, "login-link", PORT=str(port), MESA_LOCAL_LOGIN_FILE=env["MESA_LOCAL_LOGIN_FILE"])
                    browser.open(link.strip(), timeout=5).read()
                return False
            except OSError:
                return False

        # An empty database is migrated and gets the startup org on first start (slow on a loaded machine).
        assert _wait(home_ok, timeout=180), "the server never served the bootstrapped org"
        manage(
            db,
            "shell",
            "-c",
            "from agents.models import Agent; from agents.services import agent_update; "
            "from issues.services import issue_create; from orgs.actors import Actor; "
            "qa = Agent.objects.get(slug='qa'); agent_update(actor=Actor.system(), agent=qa, runner='noop'); "
            "issue_create(actor=Actor.system(), org=qa.org, title='Smoke test the scheduler', assignee=qa)",
        )
        # The in-process scheduler picks the assignment up (woken through its socket) and runs it.
        assert _wait(lambda: _runs(db) == ["completed"]), _runs(db)
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0].decode(errors="replace")
    assert proc.returncode == 0, output
    assert f"http://127.0.0.1:{port}/login/local?token=" in output  # make run printed the login link
    assert "running" not in _runs(db)


def _workers(pid: int) -> list[int]:
    """The pids of ``pid``'s children that are web workers (started by any of its threads)."""
    kids = [kid for task in Path(f"/proc/{pid}/task").iterdir() for kid in (task / "children").read_text().split()]
    found = []
    for kid in kids:
        try:
            cmdline = Path(f"/proc/{kid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--worker" in cmdline:
            found.append(int(kid))
    return sorted(found)


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def test_it_serves_one_port_from_several_workers_and_replaces_one_that_dies(tmp_path: Path) -> None:
    with reserved_port() as port:
        _serve_with_workers(tmp_path, port)


def _serve_with_workers(tmp_path: Path, port: int) -> None:
    db = tmp_path / "mesa.db"
    env = mesa_env(
        db,
        PORT=str(port),
        SECRET_KEY="test-not-secret",
        MESA_REPOS_DIR=str(tmp_path / "repos"),
        MESA_WORKTREES_DIR=str(tmp_path / "worktrees"),
        MESA_WEB_WORKERS="2",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "mesa.serve"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert _wait(lambda: len(_workers(proc.pid)) == 2 and _answers(port), timeout=180)
        first = _workers(proc.pid)
        # A worker killed outright is replaced; the port keeps answering meanwhile (the other worker).
        os.kill(first[0], signal.SIGKILL)
        assert _answers(port)
        assert _wait(lambda: len(_workers(proc.pid)) == 2 and first[0] not in _workers(proc.pid), timeout=60)
        assert _wait(lambda: _answers(port))
        # The scheduler still runs beside the workers: an assignment made now is run.
        manage(
            db,
            "shell",
            "-c",
            "from agents.models import Agent; from agents.services import agent_update; "
            "from issues.services import issue_create; from orgs.actors import Actor; "
            "qa = Agent.objects.get(slug='qa'); agent_update(actor=Actor.system(), agent=qa, runner='noop'); "
            "issue_create(actor=Actor.system(), org=qa.org, title='Smoke test the scheduler', assignee=qa)",
        )
        assert _wait(lambda: _runs(db) == ["completed"]), _runs(db)
        workers = _workers(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0].decode(errors="replace")
    assert proc.returncode == 0, output
    assert "(2 web workers)" in output and "exited" in output
    # No worker outlives the server.
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists() and _state(pid) != "Z"]
    assert not _answers(port)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"

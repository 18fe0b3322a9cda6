"""Schemathesis against the running app: no server error and no response outside the schema.

The app runs under daphne on a free loopback port with its own freshly migrated
SQLite database, bootstrapped with the startup org; keys are minted with the real
``board-key`` / ``agent-key`` commands (all in one seeding subprocess). The schemathesis CLI then fuzzes every
operation of /api/schema/ once with a board key and once with an agent key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.server import listening_socket

BASE = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Examples per operation: enough to reach the input checks of every operation, small
# enough that both runs together stay under a minute on two cores. (The deterministic
# "coverage" phase is left out for time: ~30 s per key; run it by hand with
# `--phases examples,coverage,fuzzing` after changing the API.)
MAX_EXAMPLES = 8
PHASES = "examples,fuzzing"
SEED = 20261124


# Runs the real management commands in one Django process (each start-up costs a second or more):
# migrate, bootstrap the startup org, then mint a board key and an agent key, printed one per line.
_SEED = """
import io, django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("bootstrap", template="startup", runner="noop", stdout=io.StringIO())
for args in (["board-key", "--name", "schemathesis"], ["agent-key", "founding-engineer"]):
    out = io.StringIO()
    call_command(*args, stdout=out)
    print(out.getvalue().strip())
"""


def _seed(env: dict[str, str]) -> tuple[str, str]:
    done = subprocess.run([sys.executable, "-c", _SEED], cwd=BASE, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"seeding failed:\n{done.stdout}\n{done.stderr}"
    board_key, agent_key = done.stdout.split()[-2:]
    assert board_key.startswith("mesa_board_") and agent_key.startswith("mesa_agent_"), done.stdout
    return board_key, agent_key


def _wait_until_up(url: str, proc: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"daphne exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def _db_dir(tmp: Path) -> Path:
    """A tmpfs directory for the database when there is one (migrating is I/O bound), else ``tmp``."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="mesa-schemathesis-", dir=shm))
    return tmp


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("schemathesis")
    db_dir = _db_dir(tmp)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mesa.settings",
        "DATABASE_URL": f"sqlite:///{db_dir / 'mesa.db'}",
        "MESA_ARCHETYPES_DIR": str(tmp / "archetypes"),
        "MESA_REPOS_DIR": str(tmp / "repos"),  # bootstrap creates the org's git repository there
        "MESA_SECRET_KEY_FILE": str(tmp / "secret-key"),
        "MESA_SCHEDULER": "0",
        "MESA_LOG_LEVEL": "ERROR",
        "PYTHONUNBUFFERED": "1",
    }
    board_key, agent_key = _seed(env)
    log = (tmp / "daphne.log").open("wb")
    # daphne serves on a socket already listening (no free-port race with other tests).
    with listening_socket() as sock:
        port = int(sock.getsockname()[1])
        proc = subprocess.Popen(
            [str(BIN / "daphne"), "--fd", str(sock.fileno()), "mesa.asgi:application"],
            cwd=BASE,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(sock.fileno(),),
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/api/schema/?format=json", proc)
        yield {"base": base, "board_key": board_key, "agent_key": agent_key, "tmp": str(tmp)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if db_dir != tmp:
            shutil.rmtree(db_dir, ignore_errors=True)


def _schemathesis(live_app: dict[str, str], key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "schemathesis"),
            "run",
            f"{live_app['base']}/api/schema/?format=json",
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--phases",
            PHASES,
            "--seed",
            str(SEED),
            "--generation-database",
            "none",
            "--workers",
            "2",
            "--request-timeout",
            "20",
            "--no-color",
        ],
        cwd=live_app["tmp"],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("who", ["board_key", "agent_key"])
def test_it_passes_schemathesis(live_app: dict[str, str], who: str) -> None:
    done = _schemathesis(live_app, live_app[who])
    server_log = (Path(live_app["tmp"]) / "daphne.log").read_text(errors="replace")[-4000:]
    assert done.returncode == 0, f"{done.stdout[-12000:]}\n{done.stderr[-3000:]}\n--- daphne log ---\n{server_log}"
    assert "No issues found" in done.stdout or "passed" in done.stdout.lower(), done.stdout[-3000:]

"""Issue 16 item 14: ``check --deploy`` warned (no HSTS, no SSL redirect, insecure cookies) and nothing could
switch them on. ``MESA_HTTPS=1`` (and ``MESA_PROXY_SSL_HEADER`` behind a proxy) turn them on."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.server import REPO, Server, mesa_env, prepare_db, start_daphne
from tests.security.test_error_paths import raw

PRODUCTION = {"MESA_HTTPS": "1", "MESA_PROXY_SSL_HEADER": "X-Forwarded-Proto"}


def check_deploy(db: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=mesa_env(db, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path: Path) -> None:
    db = tmp_path / "mesa.db"
    before = check_deploy(db)
    assert before.returncode != 0 and "security.W004" in before.stderr  # no HSTS without MESA_HTTPS
    after = check_deploy(db, **PRODUCTION)
    assert after.returncode == 0, after.stderr


@pytest.fixture(scope="module")
def https_mesa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("mesa-https")
    server = start_daphne(prepare_db(directory), directory / "daphne.log", **PRODUCTION)
    yield server
    server.stop()


def get(server: Server, path: str, *extra: str) -> tuple[int, dict[str, str], bytes]:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *extra, "Connection: close", "", ""]
    return raw(server, "\r\n".join(lines))


def test_pages_redirect_to_https_and_answer_with_hsts_and_secure_cookies_behind_the_proxy(https_mesa: Server) -> None:
    status, headers, _ = get(https_mesa, "/login/")
    assert status == 301 and headers["location"] == "https://127.0.0.1/login/"

    status, headers, _ = get(https_mesa, "/login/", "X-Forwarded-Proto: https")
    assert status == 200
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "secure" in headers["set-cookie"].lower()


def test_agents_reach_the_api_on_loopback_without_a_redirect(https_mesa: Server) -> None:
    status, headers, _ = get(https_mesa, "/api/v1/inbox")
    assert status == 401 and "location" not in headers

"""Issue 16 item 6 (part): with ``ALLOWED_HOSTS=*`` DNS rebinding reached the login-free dashboard from a
web page. Trusted local mode now refuses to start with a wildcard host."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def check(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_", "MESA_"))}
    env.update(DJANGO_SETTINGS_MODULE="mesa.settings", DATABASE_URL=f"sqlite:///{tmp_path / 'mesa.db'}", **extra)
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("hosts", ["*", "127.0.0.1,*", ".example.com"])
def test_it_refuses_to_start_trusted_local_mode_with_a_wildcard_host(tmp_path: Path, hosts: str) -> None:
    done = check(tmp_path, MESA_TRUSTED_LOCAL="1", ALLOWED_HOSTS=hosts)
    assert done.returncode != 0
    assert "wildcard ALLOWED_HOSTS" in done.stderr


def test_it_starts_with_a_wildcard_host_when_login_is_required(tmp_path: Path) -> None:
    assert check(tmp_path, MESA_TRUSTED_LOCAL="0", ALLOWED_HOSTS="*").returncode == 0


def test_it_starts_trusted_local_mode_with_listed_hosts(tmp_path: Path) -> None:
    assert check(tmp_path, MESA_TRUSTED_LOCAL="1", ALLOWED_HOSTS="127.0.0.1,localhost").returncode == 0
